package vnet.switching.component;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import vnet.transport.shm.Names;

/**
 * Reads configuration properties as ConfigAdmin delivers them (typed values from the Metatype-aware tools, plain
 * strings from {@code .cfg} files and the shell) with errors that name the property and the bad value, e.g.
 * {@code size=abc is not a number}.
 */
final class ConfigValues {
    private final Map<String, ?> properties;

    ConfigValues(Map<String, ?> properties) {
        this.properties = properties;
    }

    /**
     * A required name, by {@link Names}' rule.
     *
     * @throws IllegalArgumentException {@code <key> is required} or {@code <key>=<value> is not a valid name (<rule>)}
     */
    String name(String key) {
        String v = string(key, "");
        if (v.isEmpty()) {
            throw new IllegalArgumentException(key + " is required");
        }
        if (!Names.isValid(v)) {
            throw new IllegalArgumentException(key + "=" + v + " is not a valid name (" + Names.RULE + ")");
        }
        return v;
    }

    /** A string, trimmed; {@code fallback} when absent. */
    String string(String key, String fallback) {
        Object v = properties.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof String[] a) {
            if (a.length != 1) {
                throw new IllegalArgumentException(key + " takes one value, not " + a.length);
            }
            v = a[0];
        }
        return String.valueOf(v).trim();
    }

    /** @throws IllegalArgumentException {@code <key>=<value> is not a number} */
    long longValue(String key, long fallback) {
        Object v = properties.get(key);
        if (v == null || (v instanceof String s && s.isBlank())) {
            return fallback;
        }
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        String s = v instanceof String[] a && a.length == 1 ? a[0].trim() : String.valueOf(v).trim();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + "=" + s + " is not a number");
        }
    }

    /** @throws IllegalArgumentException {@code <key>=<value> is not a number} or {@code <key>=<value> is too large} */
    int intValue(String key, int fallback) {
        long v = longValue(key, fallback);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(key + "=" + v + " is too large");
        }
        return (int) v;
    }

    /** @throws IllegalArgumentException {@code <key>=<value> is not true or false} */
    boolean booleanValue(String key, boolean fallback) {
        Object v = properties.get(key);
        if (v == null || (v instanceof String s && s.isBlank())) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = String.valueOf(v).trim();
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        if (s.equalsIgnoreCase("false")) {
            return false;
        }
        throw new IllegalArgumentException(key + "=" + s + " is not true or false");
    }

    /** Several strings: an array, a collection, or one string with comma-separated values; empty when absent. */
    String[] strings(String key) {
        Object v = properties.get(key);
        List<String> out = new ArrayList<>();
        if (v instanceof String[] a) {
            for (String s : a) {
                add(out, s);
            }
        } else if (v instanceof Collection<?> c) {
            for (Object o : c) {
                add(out, String.valueOf(o));
            }
        } else if (v != null) {
            for (String s : String.valueOf(v).split(",")) {
                add(out, s);
            }
        }
        return out.toArray(new String[0]);
    }

    private static void add(List<String> out, String s) {
        if (s != null && !s.isBlank()) {
            out.add(s.trim());
        }
    }
}
