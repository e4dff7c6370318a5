package de.bwaldvogel.mongo.backend;

import java.util.List;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.KeyConstraintError;

/**
 * Wraps one of mongo-java-server's unique indexes, which answer a query only when its fields are
 * exactly the index's fields: `{ email }` uses the email index, `{ email, status }` scans the
 * collection. This wrapper also answers a query that has the index's fields plus others, by
 * looking up the index's fields alone; the collection then matches the candidate against the
 * whole query. Everything else (uniqueness, maintenance) is the wrapped index's.
 */
public final class UniqueLookupIndex<P> extends Index<P> {
    private final Index<P> unique;

    public UniqueLookupIndex(Index<P> unique) {
        super(unique.getName(), unique.getKeys(), unique.isSparse());
        this.unique = unique;
    }

    /** The query restricted to the index's fields, or null when one of them is missing. */
    private Document lookup(Document query) {
        Document restricted = new Document();
        for (String key : keys()) {
            if (!query.containsKey(key)) return null;
            restricted.put(key, query.get(key));
        }
        return restricted;
    }

    @Override
    public boolean canHandle(Document query) {
        if (unique.canHandle(query)) return true;
        Document restricted = lookup(query);
        return restricted != null && unique.canHandle(restricted);
    }

    @Override
    public Iterable<P> getPositions(Document query) {
        if (unique.canHandle(query)) return unique.getPositions(query);
        return unique.getPositions(lookup(query));
    }

    @Override
    public P getPosition(Document document) {
        return unique.getPosition(document);
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
        unique.checkAdd(document, collection);
    }

    @Override
    public void add(Document document, P position, MongoCollection<P> collection) {
        unique.add(document, position, collection);
    }

    @Override
    public P remove(Document document) {
        return unique.remove(document);
    }

    @Override
    public long getCount() {
        return unique.getCount();
    }

    @Override
    public long getDataSize() {
        return unique.getDataSize();
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        unique.checkUpdate(oldDocument, newDocument, collection);
    }

    @Override
    public void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) throws KeyConstraintError {
        unique.updateInPlace(oldDocument, newDocument, position, collection);
    }

    @Override
    public void drop() {
        unique.drop();
    }

    @Override
    public boolean isUnique() {
        return true;
    }

    @Override
    public boolean isEmpty() {
        return unique.isEmpty();
    }
}
