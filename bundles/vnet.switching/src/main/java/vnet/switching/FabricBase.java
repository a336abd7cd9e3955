package vnet.switching;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import vnet.linux.LinuxException;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.PortSettings;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.Features;
import vnet.virtio.net.NetStats;
import vnet.virtqueue.DeviceQueue;

/**
 * The control plane a p2p link and a switch share: the port slots and their lifecycle (attach and detach through
 * commands each worker runs between two rounds), the assignment of ports' sides to workers, counters, captures and
 * the {@link Fabric} views. The data path is one {@link Forwarder} per worker thread; subclasses make them and decide
 * which worker serves which side of a port.
 */
abstract class FabricBase implements PortHost, AutoCloseable {
    private static final Logger LOG = System.getLogger(FabricBase.class.getName());

    final String name;
    final FabricSettings settings;
    final int maxPorts;
    /** The data path of each worker, and its thread (made by {@link #start()}). */
    private Forwarder[] forwarders;
    private ForwardingWorker[] workers;
    /** What a port's transport waits for when it withdraws a snapshot: every worker (control-plane rate). */
    private final DataPath allWorkers = new DataPath() {
        @Override
        public void quiesce() {
            for (ForwardingWorker w : workers) {
                w.quiesce();
            }
        }

        @Override
        public void wake() {
            for (ForwardingWorker w : workers) {
                w.wake();
            }
        }
    };

    /** Control plane, guarded by {@code this}: ports by name in the order they were attached. */
    private final Map<String, PortState> byName = new LinkedHashMap<>();
    private boolean closed;

    FabricBase(String name, FabricSettings settings, int maxPorts) {
        this.name = Objects.requireNonNull(name, "name");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.maxPorts = maxPorts;
    }

    /**
     * Makes the workers and starts them; subclasses call it at the end of their constructor, once what
     * {@link #forwarder} needs is set.
     */
    final void start() throws LinuxException {
        int n = workerCount();
        Handoff handoff = n > 1 && crossesWorkers() ? new Handoff(n) : null;
        forwarders = new Forwarder[n];
        workers = new ForwardingWorker[n];
        List<Integer> cpus = settings.cpus();
        try {
            for (int i = 0; i < n; i++) {
                Forwarder f = forwarder(i, handoff);
                forwarders[i] = f;
                workers[i] = new ForwardingWorker(n == 1 ? name : name + "-" + i, maxPorts, f, settings.pollMicros(),
                        settings.busyPoll(), cpus.isEmpty() ? -1 : cpus.get(i % cpus.size()));
                f.worker = workers[i];
                workers[i].onFault(slot -> {
                    PortState s = f.slots[slot];
                    if (s != null) {
                        f.faulted(s);
                    }
                });
            }
        } catch (LinuxException | RuntimeException e) {
            for (ForwardingWorker w : workers) {
                if (w != null) {
                    w.close();
                }
            }
            throw e;
        }
        if (handoff != null) {
            handoff.threads(workers);
        }
        for (ForwardingWorker w : workers) {
            w.start();
        }
    }

    /** Worker threads this fabric runs ({@code workers}). */
    int workerCount() {
        return settings.workers();
    }

    /** Whether a frame taken by one worker may be for a port side another serves (then they share hand-off rings). */
    abstract boolean crossesWorkers();

    /** The data path of worker {@code index}. */
    abstract Forwarder forwarder(int index, Handoff handoff);

    /** Worker {@code i}'s thread. */
    final ForwardingWorker worker(int i) {
        return workers[i];
    }

    @Override
    public final int workers() {
        return workers.length;
    }

    /**
     * The workers that serve the transmit and the receive side of a port entering {@code slot}, given those attached
     * now. The default, as OVS assigns receive queues to PMD threads round-robin: both sides on the worker serving
     * fewest ports.
     */
    int[] assign(int slot, List<PortState> existing) {
        int[] load = new int[workers.length];
        for (PortState p : existing) {
            load[p.txWorker]++;
        }
        int best = 0;
        for (int i = 1; i < load.length; i++) {
            if (load[i] < load[best]) {
                best = i;
            }
        }
        return new int[] {best, best};
    }

    /** Runs {@code action} with each worker's forwarder on that worker's thread, between two rounds. */
    final void onEveryWorker(java.util.function.Consumer<Forwarder> action) {
        for (int i = 0; i < workers.length; i++) {
            Forwarder f = forwarders[i];
            workers[i].execute(() -> action.accept(f));
        }
    }

    // ---- control plane: ports -------------------------------------------------------------------------------------

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final long pollMicros() {
        return settings.pollMicros();
    }

    @Override
    public final boolean busyPoll() {
        return settings.busyPoll();
    }

    @Override
    public final int maxQueueSize() {
        return settings.maxQueueSize();
    }

    @Override
    public final Path runtimeDir() {
        return settings.runtimeDir().resolve(name);
    }

    @Override
    public PortSettings portSettings(PortOptions options) {
        long features = PortSettings.DEFAULT_FEATURES | Features.STATUS
                | (options.mac() != MacAddress.NONE ? Features.MAC : 0)
                | (options.offloads() ? PortSettings.OFFLOAD_FEATURES : 0)
                | (options.mtu() != PortOptions.NO_MTU ? Features.MTU : 0);
        return PortSettings.defaults().withDsMax(options.dsMax()).withMac(options.mac())
                .withMaxQueueSize(settings.maxQueueSize()).withTrusted(settings.trusted())
                .withPollMode(settings.polling()).withFeatures(features).withMtu(options.mtu())
                .withMaxQueuePairs(options.queues());
    }

    @Override
    public final synchronized void checkAttach(PortDefinition definition) {
        if (closed) {
            throw new IllegalStateException(what() + " is closed");
        }
        if (byName.containsKey(definition.name())) {
            throw new IllegalArgumentException("port \"" + definition.name() + "\" already exists on " + what());
        }
        checkAttach(definition, List.copyOf(byName.values()));
    }

    /** Kind-specific refusals; {@code existing} are the ports attached now. */
    abstract void checkAttach(PortDefinition definition, List<PortState> existing);

    @Override
    public final synchronized void attach(PortDefinition definition, DevicePort port) {
        checkAttach(definition);
        int slot = -1;
        boolean[] used = new boolean[maxPorts];
        for (PortState s : byName.values()) {
            used[s.slot] = true;
        }
        for (int i = 0; i < used.length && slot < 0; i++) {
            if (!used[i]) {
                slot = i;
            }
        }
        int[] sides = assign(slot, List.copyOf(byName.values()));
        PortState state = new PortState(slot, definition, port, sides[0], sides[1], workers.length);
        byName.put(definition.name(), state);
        port.setDataPath(allWorkers); // bound before a worker can see it, so its snapshot changes quiesce them
        try {
            onEveryWorker(f -> {
                f.slots[state.slot] = state;
                boolean tx = f.index == state.txWorker;
                if (tx || f.index == state.rxWorker) {
                    f.worker.setPort(state.slot, port, tx);
                }
                f.attached(state);
            });
        } catch (RuntimeException e) {
            byName.remove(definition.name());
            try {
                onEveryWorker(f -> leave(f, state));
            } catch (RuntimeException again) {
                e.addSuppressed(again);
            }
            port.setDataPath(DataPath.NONE);
            throw e;
        }
        LOG.log(Level.INFO, "vnet {0} {1}: port {2} attached ({3}){4}", kind(), name, definition.name(),
                definition.endpoint(), workers.length == 1 ? ""
                        : state.txWorker == state.rxWorker ? ", worker " + state.txWorker
                        : ", transmit on worker " + state.txWorker + ", receive on worker " + state.rxWorker);
    }

    private static void leave(Forwarder f, PortState state) {
        if (f.slots[state.slot] == state) {
            f.slots[state.slot] = null;
            if (f.index == state.txWorker || f.index == state.rxWorker) {
                f.worker.setPort(state.slot, null, false);
            }
            f.detached(state);
        }
    }

    @Override
    public final synchronized DevicePort detach(String portName) {
        PortState state = byName.remove(portName);
        if (state == null) {
            return null;
        }
        onEveryWorker(f -> leave(f, state));
        state.port.setDataPath(DataPath.NONE);
        Capture capture = state.capture;
        state.capture = null;
        if (capture != null) {
            capture.close(); // no worker refers to the port any more
        }
        LOG.log(Level.INFO, "vnet {0} {1}: port {2} detached", kind(), name, portName);
        return state.port;
    }

    private synchronized PortState state(String portName) {
        PortState s = byName.get(portName);
        if (s == null) {
            throw new IllegalArgumentException("no port \"" + portName + "\" on " + what());
        }
        return s;
    }

    // ---- control plane: views -------------------------------------------------------------------------------------

    @Override
    public final synchronized List<FabricPort> ports() {
        List<FabricPort> list = new ArrayList<>(byName.size());
        for (PortState s : byName.values()) {
            list.add(view(s));
        }
        return list;
    }

    @Override
    public final FabricPort port(String portName) {
        return view(state(portName));
    }

    private FabricPort view(PortState s) {
        PortDefinition d = s.definition;
        DeviceSnapshot device = s.port.device();
        boolean forwarding = workers[s.txWorker].uses(s.slot, device) && workers[s.rxWorker].uses(s.slot, device);
        return new FabricPort(d.name(), d.options(), d.vlan(), d.monitor(), d.endpoint(), forwarding,
                s.capture != null, s.stats());
    }

    @Override
    public final PortStats stats(String portName) {
        return state(portName).stats();
    }

    @Override
    public final List<QueueState> queues(String portName) {
        PortState s = state(portName);
        List<QueueState> list = new ArrayList<>();
        workers[s.txWorker].execute(() -> {
            DeviceSnapshot d = s.port.device();
            if (d == null) {
                return;
            }
            for (QueuePair q : d.pairs()) {
                list.add(new QueueState(q.index(), d.features(), d.headerSize(), ring(q.rx()), ring(q.tx()),
                        q.net().stats().copyTo(new NetStats())));
            }
        });
        return list;
    }

    private static QueueState.Ring ring(DeviceQueue q) {
        return new QueueState.Ring(q.size(), q.isPacked(), q.lastAvailIndex(), q.usedIndex(), q.brokenReason());
    }

    @Override
    public List<MacEntry> macTable() {
        return List.of();
    }

    @Override
    public final void startCapture(String portName, Path file) throws IOException {
        PortState s = state(portName);
        Capture capture = new Capture(name + "-" + portName, file);
        Capture old;
        synchronized (s) {
            old = s.capture;
            s.capture = capture;
        }
        if (old != null) {
            allWorkers.quiesce(); // no round still records into it
            old.close();
        }
        LOG.log(Level.INFO, "vnet {0} {1}: capturing port {2} to {3}", kind(), name, portName, file);
    }

    @Override
    public final void stopCapture(String portName) {
        PortState s = state(portName);
        Capture old;
        synchronized (s) {
            old = s.capture;
            s.capture = null;
        }
        if (old != null) {
            allWorkers.quiesce();
            old.close();
            LOG.log(Level.INFO, "vnet {0} {1}: capture of port {2} stopped ({3})", kind(), name, portName, old.path());
        }
    }

    /**
     * Stops forwarding: the worker stops, every port is unbound and left to its owner (who closes it), captures are
     * closed.
     */
    @Override
    public void close() {
        List<PortState> ports;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            ports = List.copyOf(byName.values());
            byName.clear();
        }
        for (ForwardingWorker w : workers) {
            w.close();
        }
        for (PortState s : ports) {
            s.port.setDataPath(DataPath.NONE);
            Capture c = s.capture;
            s.capture = null;
            if (c != null) {
                c.close();
            }
        }
    }

    /** {@code p2p link "<name>"} or {@code switch "<name>"}, for messages. */
    final String what() {
        return (KIND_P2P.equals(kind()) ? "p2p link" : kind()) + " \"" + name + "\"";
    }

    @Override
    public String toString() {
        return what();
    }
}
