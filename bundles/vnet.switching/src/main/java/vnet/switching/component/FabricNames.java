package vnet.switching.component;

import java.util.concurrent.ConcurrentHashMap;

/** The names of the running links and switches of this bundle: one namespace for both kinds. */
final class FabricNames {
    private static final ConcurrentHashMap<String, String> IN_USE = new ConcurrentHashMap<>();

    private FabricNames() {
    }

    /**
     * Takes {@code name} for a fabric of {@code kind}.
     *
     * @throws IllegalArgumentException {@code name=<name> is already used by a running <kind>}
     */
    static void reserve(String name, String kind) {
        String other = IN_USE.putIfAbsent(name, kind);
        if (other != null) {
            throw new IllegalArgumentException("name=" + name + " is already used by a running "
                    + ("p2p".equals(other) ? "p2p link" : other));
        }
    }

    static void release(String name) {
        IN_USE.remove(name);
    }
}
