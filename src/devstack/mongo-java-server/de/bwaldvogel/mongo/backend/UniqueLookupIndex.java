package de.bwaldvogel.mongo.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.bson.BsonRegularExpression;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.exception.KeyConstraintError;

/**
 * Wraps one of mongo-java-server's unique indexes, which answer a query only when its fields are
 * exactly the index's fields: `{ email }` uses the email index, `{ email, status }` scans the
 * collection. This wrapper also answers a query that has the index's fields plus others, by
 * looking up the index's fields alone (equality and $in); the collection then matches the candidate against the
 * whole query. On a single string field it also keeps the values in order, so an anchored
 * regular expression (`^john`) reads the range of its literal prefix instead of every key.
 * Everything else (uniqueness, maintenance) is the wrapped index's.
 */
public final class UniqueLookupIndex<P> extends Index<P> {
    private final Index<P> unique;
    /** Single-field indexes: each string value and its document's position, in order. */
    private final TreeMap<String, P> ordered = new TreeMap<>();
    private long nonStrings;

    public UniqueLookupIndex(Index<P> unique) {
        super(unique.getName(), unique.getKeys(), unique.isSparse());
        this.unique = unique;
    }

    private boolean singleField() {
        return getKeys().size() == 1;
    }

    private void file(Document document, P position) {
        if (!singleField()) return;
        Object value = Utils.getSubdocumentValue(document, keys().get(0));
        if (value instanceof String text) ordered.put(text, position);
        else if (!(value instanceof Missing)) nonStrings++;
    }

    private void unfile(Document document) {
        if (!singleField()) return;
        Object value = Utils.getSubdocumentValue(document, keys().get(0));
        if (value instanceof String text) ordered.remove(text);
        else if (!(value instanceof Missing)) nonStrings--;
    }

    /** The literal prefix of an anchored, flag-free regular expression asked of the field, or null. */
    private String prefixAskedFor(Document query) {
        if (!singleField() || nonStrings != 0) return null;
        Object asked = query.get(keys().get(0));
        if (!BsonRegularExpression.isRegularExpression(asked)) return null;
        BsonRegularExpression regex = BsonRegularExpression.convertToRegularExpression(asked);
        String options = regex.getOptions();
        if (options != null && !options.isEmpty()) return null;
        return literalPrefix(regex.getPattern());
    }

    static String literalPrefix(String pattern) {
        if (!pattern.startsWith("^")) return null;
        StringBuilder prefix = new StringBuilder();
        for (int i = 1; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\' && i + 1 < pattern.length() && !Character.isLetterOrDigit(pattern.charAt(i + 1))) {
                prefix.append(pattern.charAt(++i));
            } else if (c == '*' || c == '?' || c == '{') {
                // The character before is optional: it is not part of every match.
                if (prefix.length() > 0) prefix.setLength(prefix.length() - 1);
                break;
            } else if (".[]()+|^$\\".indexOf(c) >= 0) {
                break;
            } else {
                prefix.append(c);
            }
        }
        return prefix.length() == 0 ? null : prefix.toString();
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
    public synchronized boolean canHandle(Document query) {
        if (prefixAskedFor(query) != null || unique.canHandle(query)) return true;
        // With more fields than the index's, only equality lookups: the wrapped index answers a
        // regular expression by testing every key, and another index may narrow better.
        Document restricted = lookup(query);
        return restricted != null && restricted.values().stream().noneMatch(BsonRegularExpression::isRegularExpression) && unique.canHandle(restricted);
    }

    @Override
    public synchronized Iterable<P> getPositions(Document query) {
        String prefix = prefixAskedFor(query);
        if (prefix != null) return new ArrayList<>(ordered.subMap(prefix, true, prefix + Character.MAX_VALUE, false).values());
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
    public synchronized void add(Document document, P position, MongoCollection<P> collection) {
        unique.add(document, position, collection);
        file(document, position);
    }

    @Override
    public synchronized P remove(Document document) {
        P position = unique.remove(document);
        if (position != null) unfile(document);
        return position;
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
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) throws KeyConstraintError {
        unique.updateInPlace(oldDocument, newDocument, position, collection);
        unfile(oldDocument);
        file(newDocument, position);
    }

    @Override
    public synchronized void drop() {
        unique.drop();
        ordered.clear();
        nonStrings = 0;
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
