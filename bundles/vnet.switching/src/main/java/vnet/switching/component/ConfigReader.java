package vnet.switching.component;

import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import vnet.transport.shm.Names;

/**
 * Reads a configuration as ConfigAdmin delivers it (typed values from the Metatype-aware tools, plain strings from
 * {@code .cfg} files and the shell) into the component's property type, the {@code @interface Config} that is also its
 * {@code @ObjectClassDefinition}: its methods name the properties (DS's mapping, {@code max_ports} is
 * {@code max.ports}), their return types are the types and their defaults the defaults, so each of these is written
 * once. Every property is checked at once, with errors that name the property and the value, e.g.
 * {@code size=abc is not a number}.
 *
 * <p>Why not SCR's own conversion (a {@code Config} parameter of {@code @Activate}) or the OSGi Converter: SCR takes
 * {@code busy.poll=yes} as false and cuts a long to an int without a word, its failures name no property; the
 * Converter is neither in Felix SCR nor in the runtime, and would be one more bundle in every runtime for the same poor
 * errors. This reader takes the types vnet's configurations use: String, int, long, boolean and String[].
 */
final class ConfigReader {
    private ConfigReader() {
    }

    /**
     * {@code properties} as a {@code type}. A property that is absent (or blank) takes the method's default; one
     * whose method has no default is required.
     *
     * @throws IllegalArgumentException {@code <key> is required}, {@code <key>=<value> is not a number},
     *                                  {@code <key>=<value> is too large}, {@code <key>=<value> is not true or false},
     *                                  {@code <key> takes one value, not <n>}; for the first such property by name
     */
    static <T extends Annotation> T read(Class<T> type, Map<String, ?> properties) {
        Method[] methods = type.getDeclaredMethods();
        Arrays.sort(methods, Comparator.comparing(Method::getName)); // the same first error every time
        Map<String, Object> values = new HashMap<>();
        for (Method m : methods) {
            values.put(m.getName(), value(m, properties));
        }
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) ->
                switch (method.getName()) {
                    case "annotationType" -> type;
                    case "toString" -> type.getSimpleName() + values;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> {
                        Object v = values.get(method.getName());
                        yield v instanceof String[] a ? a.clone() : v;
                    }
                }));
    }

    /**
     * A name by {@link Names}' rule.
     *
     * @throws IllegalArgumentException {@code <key>=<value> is not a valid name (<rule>)}
     */
    static String name(String key, String value) {
        if (!Names.isValid(value)) {
            throw new IllegalArgumentException(key + "=" + value + " is not a valid name (" + Names.RULE + ")");
        }
        return value;
    }

    /** The property name of {@code method} by DS's rule for component property types: '_' is '.', "__" is '_'. */
    static String key(Method method) {
        return method.getName().replace("__", "\0").replace('_', '.').replace('\0', '_');
    }

    private static Object value(Method m, Map<String, ?> properties) {
        String key = key(m);
        Object raw = properties.get(key);
        Class<?> t = m.getReturnType();
        if (t == String[].class) {
            return raw == null ? m.getDefaultValue() : strings(raw);
        }
        String s = scalar(key, raw);
        if (s == null) {
            Object fallback = m.getDefaultValue();
            if (fallback == null) {
                throw new IllegalArgumentException(key + " is required");
            }
            return fallback;
        }
        if (t == String.class) {
            return s;
        }
        if (t == boolean.class) {
            if (raw instanceof Boolean b) {
                return b;
            }
            if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(s);
            }
            throw new IllegalArgumentException(key + "=" + s + " is not true or false");
        }
        long v;
        if (raw instanceof Long || raw instanceof Integer || raw instanceof Short || raw instanceof Byte) {
            v = ((Number) raw).longValue();
        } else {
            try {
                v = Long.parseLong(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + "=" + s + " is not a number");
            }
        }
        if (t == long.class) {
            return v;
        }
        if (t == int.class) {
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(key + "=" + v + " is too large");
            }
            return (int) v;
        }
        throw new IllegalStateException(m + ": ConfigReader does not read " + t.getName());
    }

    /** The one value of {@code raw}, trimmed; null when absent or blank. */
    private static String scalar(String key, Object raw) {
        if (raw instanceof String[] a) {
            if (a.length != 1) {
                throw new IllegalArgumentException(key + " takes one value, not " + a.length);
            }
            raw = a[0];
        }
        String s = raw == null ? "" : String.valueOf(raw).trim();
        return s.isEmpty() ? null : s;
    }

    /** Several strings: an array, a collection, or one string with comma-separated values; blanks left out. */
    private static String[] strings(Object raw) {
        List<String> out = new ArrayList<>();
        if (raw instanceof String[] a) {
            for (String s : a) {
                add(out, s);
            }
        } else if (raw instanceof Collection<?> c) {
            for (Object o : c) {
                add(out, String.valueOf(o));
            }
        } else {
            for (String s : String.valueOf(raw).split(",")) {
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
