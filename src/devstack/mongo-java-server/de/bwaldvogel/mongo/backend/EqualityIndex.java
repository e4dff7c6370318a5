package de.bwaldvogel.mongo.backend;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.bson.Document;

/**
 * A non-unique index for mongo-java-server, which ignores non-unique indexes (every query on
 * them scans the collection). It maps each value of the index's first field to the positions of
 * the documents holding it (each element for an array, null for a missing field), and answers
 * equality and $in on that field with those positions. It only narrows: the collection still
 * matches every candidate against the whole query, so the index may return more than matches,
 * never less. It declines a query whose value holds more than a quarter of the collection,
 * where a scan costs the same and another index may do better.
 *
 * Lives in mongo-java-server's package for its package-private value normalisation. Callers
 * hold the collection's lock (every collection method is synchronized); the index is too.
 */
public final class EqualityIndex<P> extends Index<P> {
    private static final Object NULL_KEY = new Object();
    private static final int ALWAYS_USE_BELOW = 1_000;

    private final String field;
    private final Map<Object, Set<P>> positionsByValue = new HashMap<>();
    private final Map<P, Set<Object>> valuesByPosition = new HashMap<>();
    private final Map<Object, P> positionById = new HashMap<>();

    public EqualityIndex(String name, List<IndexKey> keys, boolean sparse) {
        super(name, keys, sparse);
        this.field = keys.get(0).getKey();
    }

    private static Object keyOf(Object value) {
        return value == null ? NULL_KEY : Utils.normalizeValue(value);
    }

    private static boolean isScalar(Object value) {
        return value == null || !(value instanceof Document || value instanceof Collection || value instanceof Missing);
    }

    /** The keys a document is filed under. */
    private Set<Object> keysOf(Document document) {
        Object value = Utils.getSubdocumentValueCollectionAware(document, field);
        Set<Object> keys = new HashSet<>();
        if (value instanceof Missing) {
            if (!isSparse()) keys.add(NULL_KEY);
        } else if (value instanceof Collection<?> values) {
            for (Object element : values) {
                if (element instanceof Missing) continue;
                if (isScalar(element)) keys.add(keyOf(element));
            }
        } else if (isScalar(value)) {
            keys.add(keyOf(value));
        }
        return keys;
    }

    /** The keys a query asks for, or null when it is not an equality (or $in) on the field. */
    private Set<Object> keysAskedFor(Document query) {
        if (!query.containsKey(field)) return null;
        Object asked = query.get(field);
        if (asked == null) return isSparse() ? null : Set.of(NULL_KEY);
        if (asked instanceof Document expression) {
            if (expression.size() != 1) return null;
            String operator = expression.keySet().iterator().next();
            Object operand = expression.get(operator);
            if (operator.equals("$eq") && isScalar(operand)) return operand == null && isSparse() ? null : Set.of(keyOf(operand));
            if (operator.equals("$in") && operand instanceof Collection<?> values) {
                Set<Object> keys = new HashSet<>();
                for (Object value : values) {
                    if (!isScalar(value) || (value == null && isSparse())) return null;
                    keys.add(keyOf(value));
                }
                return keys;
            }
            return null;
        }
        return isScalar(asked) ? Set.of(keyOf(asked)) : null;
    }

    private Object idOf(Document document) {
        return Utils.normalizeValue(document.get(Constants.ID_FIELD));
    }

    @Override
    public synchronized boolean canHandle(Document query) {
        Set<Object> keys = keysAskedFor(query);
        if (keys == null) return false;
        int total = valuesByPosition.size();
        if (total < ALWAYS_USE_BELOW) return true;
        long candidates = 0;
        for (Object key : keys) candidates += positionsByValue.getOrDefault(key, Set.of()).size();
        return candidates * 4 <= total;
    }

    @Override
    @SuppressWarnings("unchecked")
    public synchronized Iterable<P> getPositions(Document query) {
        Set<Object> keys = keysAskedFor(query);
        Set<P> positions = new LinkedHashSet<>();
        for (Object key : keys) positions.addAll(positionsByValue.getOrDefault(key, Set.of()));
        List<P> ordered = new ArrayList<>(positions);
        // The memory backend's positions are insertion numbers: keep natural order.
        if (!ordered.isEmpty() && ordered.get(0) instanceof Integer) ordered.sort((Comparator<P>) Comparator.naturalOrder());
        return ordered;
    }

    @Override
    public synchronized P getPosition(Document document) {
        return positionById.get(idOf(document));
    }

    @Override
    public void checkAdd(Document document, MongoCollection<P> collection) {
        // not unique: nothing to refuse
    }

    @Override
    public synchronized void add(Document document, P position, MongoCollection<P> collection) {
        Set<Object> keys = keysOf(document);
        for (Object key : keys) positionsByValue.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(position);
        valuesByPosition.put(position, keys);
        positionById.put(idOf(document), position);
    }

    @Override
    public synchronized P remove(Document document) {
        P position = positionById.remove(idOf(document));
        if (position == null) return null;
        for (Object key : valuesByPosition.remove(position)) {
            Set<P> positions = positionsByValue.get(key);
            if (positions == null) continue;
            positions.remove(position);
            if (positions.isEmpty()) positionsByValue.remove(key);
        }
        return position;
    }

    @Override
    public void checkUpdate(Document oldDocument, Document newDocument, MongoCollection<P> collection) {
        // not unique: nothing to refuse
    }

    @Override
    public synchronized void updateInPlace(Document oldDocument, Document newDocument, P position, MongoCollection<P> collection) {
        remove(oldDocument);
        add(newDocument, position, collection);
    }

    @Override
    public synchronized long getCount() {
        return valuesByPosition.size();
    }

    @Override
    public long getDataSize() {
        return 0;
    }

    @Override
    public synchronized void drop() {
        positionsByValue.clear();
        valuesByPosition.clear();
        positionById.clear();
    }

    @Override
    public boolean isUnique() {
        return false;
    }
}
