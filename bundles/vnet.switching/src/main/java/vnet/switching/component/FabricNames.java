package vnet.switching.component;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The names of the running links and switches of this bundle: one namespace for both kinds.
 *
 * <p>Why a registry of its own and not DS: a name must be claimed before the engine is made (it owns the folder
 * {@code <runtime.dir>/<name>/} where its ports' sockets go) and before its {@link vnet.switching.PortHost} service
 * appears, since a port keeps one host per name and a second one would take the first one's place. DS references
 * and target filters select services that exist; they cannot refuse a second component because a first one holds a
 * name. Looking the name up among the registered {@link vnet.switching.Fabric} services instead would be
 * check-then-act (ConfigAdmin's delivery thread and bundle starts activate components concurrently), and resolving a
 * clash after registering would already have shown the ports a second host. One atomic {@code putIfAbsent} here has
 * neither gap.
 */
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
