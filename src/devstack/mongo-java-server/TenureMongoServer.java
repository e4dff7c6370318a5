import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.backend.EqualityIndex;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.UniqueLookupIndex;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import de.bwaldvogel.mongo.backend.memory.MemoryDatabase;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.h2.mvstore.MVStore;

/**
 * Serves mongo-java-server on a loopback port for tenure's local stack and tests.
 *
 * mongo-java-server 1.47 announces wire version 8 (MongoDB 4.2 and older), which the Node
 * driver 7 refuses; the commands tenure sends are the same at wire version 9 (MongoDB 4.4), so
 * the server announces that. Usage:
 *   TenureMongoServer --port N [--host 127.0.0.1] [--file path/to/store.mv]
 * Without --file the data lives in memory; with it, in an H2 MVStore file that survives restarts.
 *
 * mongo-java-server ignores non-unique indexes and uses a unique one only for a query on exactly
 * its fields, so both backends here get EqualityIndex for non-unique indexes and
 * UniqueLookupIndex around unique ones (see those classes). Writes stay as the server makes
 * them: each collection serialises its operations, which is what the conformance test checks;
 * creating a collection is made atomic here (see the overrides).
 */
public final class TenureMongoServer {
  private enum AnnouncedVersion implements MongoVersion {
    MONGO_4_4;

    @Override
    public List<Integer> getVersionArray() {
      return List.of(4, 4, 0);
    }

    @Override
    public int getWireVersion() {
      return 9;
    }
  }

  public static void main(String[] args) throws InterruptedException {
    String host = "127.0.0.1";
    int port = 27017;
    String file = null;
    for (int i = 0; i < args.length; i++) {
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--host" -> { host = require(args[i], value); i++; }
        case "--port" -> { port = Integer.parseInt(require(args[i], value)); i++; }
        case "--file" -> { file = require(args[i], value); i++; }
        default -> fail("unknown option " + args[i] + " (expected --host, --port, --file)");
      }
    }
    MongoBackend backend = file == null ? new IndexedMemoryBackend() : IndexedH2Backend.open(file);
    backend.version(AnnouncedVersion.MONGO_4_4);
    MongoServer server = new MongoServer(backend);
    server.bind(host, port);
    CountDownLatch stopped = new CountDownLatch(1);
    // SIGTERM/SIGINT: stop accepting, close the backend (the H2 store commits and closes its file).
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.shutdown();
      stopped.countDown();
    }, "tenure-mongo-shutdown"));
    System.out.println("tenure-mongo listening on " + host + ":" + port + (file == null ? " (memory)" : " (file " + file + ")"));
    System.out.flush();
    stopped.await();
  }

  private static String require(String option, String value) {
    if (value == null) fail(option + " needs a value");
    return value;
  }

  private static void fail(String message) {
    System.err.println("TenureMongoServer: " + message);
    System.exit(2);
  }

  /** The collection an index description's namespace ("db.collection") names. */
  private static String collectionOf(Document indexDescription, String databaseName) {
    return indexDescription.get("ns").toString().substring(databaseName.length() + 1);
  }

  private static final class IndexedMemoryBackend extends MemoryBackend {
    @Override
    public MemoryDatabase openOrCreateDatabase(String databaseName) {
      return new MemoryDatabase(databaseName, getCursorRegistry()) {
        @Override
        protected Index<Integer> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
          return new EqualityIndex<>(indexName, keys, sparse);
        }

        @Override
        protected Index<Integer> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
          return new UniqueLookupIndex<>(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse));
        }

        // Creating a collection is a get-then-put in AbstractMongoDatabase: two requests that
        // create the same collection (an insert and a createIndexes or create, say) could each
        // make one, and writes to the one replaced were lost. One lock per database makes it
        // create-once, as mongod does.
        @Override
        protected synchronized MongoCollection<Integer> resolveOrCreateCollection(String collectionName) {
          return super.resolveOrCreateCollection(collectionName);
        }

        @Override
        public synchronized MongoCollection<Integer> createCollectionOrThrowIfExists(String collectionName, CollectionOptions options) {
          return super.createCollectionOrThrowIfExists(collectionName, options);
        }

        @Override
        protected synchronized MongoCollection<Integer> getOrCreateIndexesCollection() {
          return super.getOrCreateIndexesCollection();
        }

        // Building an index walks the collection's documents without the collection's lock, so
        // a write landing meanwhile broke the build or escaped the index: the build holds it.
        @Override
        protected synchronized void addIndex(Document indexDescription) {
          MongoCollection<Integer> collection = resolveOrCreateCollection(collectionOf(indexDescription, getDatabaseName()));
          synchronized (collection) {
            super.addIndex(indexDescription);
          }
        }
      };
    }
  }

  private static final class IndexedH2Backend extends H2Backend {
    /** H2Backend opens the stored databases in its constructor, before a field of ours is set. */
    private static MVStore opening;

    static synchronized IndexedH2Backend open(String file) {
      opening = MVStore.open(file);
      try {
        return new IndexedH2Backend(opening);
      } finally {
        opening = null;
      }
    }

    private final MVStore store;

    private IndexedH2Backend(MVStore store) {
      super(store);
      this.store = store;
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
      MVStore mvStore = store != null ? store : opening;
      return new H2Database(databaseName, mvStore, getCursorRegistry()) {
        @Override
        protected Index<Object> openOrCreateSecondaryIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
          return new EqualityIndex<>(indexName, keys, sparse);
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys, boolean sparse) {
          return new UniqueLookupIndex<>(super.openOrCreateUniqueIndex(collectionName, indexName, keys, sparse));
        }

        // Creation once-only and an exclusive index build, as in the memory backend above.
        @Override
        protected synchronized MongoCollection<Object> resolveOrCreateCollection(String collectionName) {
          return super.resolveOrCreateCollection(collectionName);
        }

        @Override
        public synchronized MongoCollection<Object> createCollectionOrThrowIfExists(String collectionName, CollectionOptions options) {
          return super.createCollectionOrThrowIfExists(collectionName, options);
        }

        @Override
        protected synchronized MongoCollection<Object> getOrCreateIndexesCollection() {
          return super.getOrCreateIndexesCollection();
        }

        @Override
        protected synchronized void addIndex(Document indexDescription) {
          MongoCollection<Object> collection = resolveOrCreateCollection(collectionOf(indexDescription, getDatabaseName()));
          synchronized (collection) {
            super.addIndex(indexDescription);
          }
        }
      };
    }
  }
}
