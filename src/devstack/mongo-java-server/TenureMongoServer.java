import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Serves mongo-java-server on a loopback port for tenure's local stack and tests.
 *
 * mongo-java-server 1.47 announces wire version 8 (MongoDB 4.2 and older), which the Node
 * driver 7 refuses; the commands tenure sends are the same at wire version 9 (MongoDB 4.4), so
 * the server announces that. Usage:
 *   TenureMongoServer --port N [--host 127.0.0.1] [--file path/to/store.mv]
 * Without --file the data lives in memory; with it, in an H2 MVStore file that survives restarts.
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
    MongoBackend backend = file == null ? new MemoryBackend() : new H2Backend(file);
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
}
