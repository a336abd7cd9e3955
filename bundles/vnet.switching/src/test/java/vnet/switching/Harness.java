package vnet.switching;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.UnaryOperator;

import vnet.transport.shm.PortSettings;
import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.transport.shm.vhost.VhostUserPort;

/** A link or switch with vhost-user ports and a Java front-end on each; closes everything in reverse order. */
final class Harness implements AutoCloseable {
    final Path dir;
    final FabricBase fabric;
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();

    Harness(Path dir, FabricBase fabric) {
        this.dir = dir;
        this.fabric = fabric;
        owned.push(fabric);
    }

    /** Adds a port and connects a client to it. */
    Client port(String name, String options, String vlan, boolean monitor) throws IOException {
        return port(new PortDefinition(name, PortOptions.parse(options), VlanMode.parse(vlan), monitor, "test"),
                s -> s, VhostUserFrontend.Options.defaults().withQueueSize(64));
    }

    Client port(String name) throws IOException {
        return port(name, "", "", false);
    }

    Client port(PortDefinition def, UnaryOperator<PortSettings> settings, VhostUserFrontend.Options options)
            throws IOException {
        VhostUserPort port = VhostUserPort.listen(def.name(), dir.resolve(def.name() + ".sock"),
                settings.apply(fabric.portSettings(def.options())));
        owned.push(port);
        fabric.attach(def, port);
        Client c = Client.connect(def.name(), port.socketPath(), options);
        owned.push(c);
        // The front-end's last set-up message may still be on its way when connect returns (no REPLY_ACK), and a
        // worker round that began before the device was published does not see it: wait until the port forwards.
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
        while (!fabric.port(def.name()).running() && System.nanoTime() < end) {
            pause();
        }
        return c;
    }

    private static void pause() {
        try {
            Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Detaches a port and closes it (its client sees the disconnect). */
    void remove(String name) {
        var p = fabric.detach(name);
        if (p != null) {
            p.close();
        }
    }

    @Override
    public void close() {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                // best effort
            }
        }
    }
}
