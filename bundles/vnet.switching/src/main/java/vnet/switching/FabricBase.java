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
import vnet.virtio.net.GsoSegmenter;
import vnet.virtio.net.NetStats;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;
import vnet.virtqueue.DeviceQueue;

/**
 * What a p2p link and a switch share: the port slots, their lifecycle (attach and detach through worker commands),
 * counters, captures and the {@link Fabric} views, and the forwarding helpers of the data path (a bounded transmit
 * burst per queue pair, delivery with counting, receive flushes batched per burst). Subclasses decide where each
 * frame goes.
 */
abstract class FabricBase implements PortHost, AutoCloseable {
    private static final Logger LOG = System.getLogger(FabricBase.class.getName());

    /** Frames taken from one transmit queue per round, so that one busy port cannot starve the others. */
    static final int TX_BURST = 64;

    final String name;
    final FabricSettings settings;
    final ForwardingWorker worker;
    /** Worker-owned: the attached ports by slot (changed by commands only). */
    final PortState[] slots;
    /** Worker-owned: the devices of the current round (valid during {@link #forward}). */
    DeviceSnapshot[] devices;
    final DescriptorChain chain = new DescriptorChain();
    final VirtioNetHeader header = new VirtioNetHeader();
    /** Worker-owned: the port whose transmit burst is being forwarded (for memory faults in mid-frame). */
    private PortState sending;
    /** Worker-owned: slots whose receive pairs await a flush. */
    private final int[] dirty;
    private int dirtyCount;
    /** Worker-owned: the software offload fallback (see the section "software offloads"). */
    private final GsoSegmenter segmenter = new GsoSegmenter();
    private final GsoSegmenter.Sink toReceiver = this::deliverSegment;
    private final GsoSegmenter.Sink toCapture = this::captureSegment;
    private final org.agrona.concurrent.UnsafeBuffer ethType = new org.agrona.concurrent.UnsafeBuffer(new byte[2]);
    /** Worker-owned: the current frame's place in {@link #chain} and its flow hash, computed when first needed. */
    private final org.agrona.concurrent.UnsafeBuffer flowBytes = new org.agrona.concurrent.UnsafeBuffer(
            new byte[FlowHash.BYTES]);
    private int frameOffset;
    private int frameLength;
    private int flowHash;
    private boolean flowHashValid;
    private PortState segmentDst;
    private QueuePair segmentOut;
    private Capture segmentCapture;
    private boolean segmentFaulted;

    /** Control plane, guarded by {@code this}: ports by name in the order they were attached. */
    private final Map<String, PortState> byName = new LinkedHashMap<>();
    private boolean closed;

    FabricBase(String name, FabricSettings settings, int maxPorts) throws LinuxException {
        this.name = Objects.requireNonNull(name, "name");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.slots = new PortState[maxPorts];
        this.dirty = new int[maxPorts];
        this.worker = new ForwardingWorker(name, maxPorts, this::forwardRound, settings.pollMicros(),
                settings.busyPoll());
        worker.onFault(slot -> {
            PortState s = slots[slot];
            if (s != null) {
                faulted(s);
            }
        });
    }

    /** Starts the data path; subclasses call it at the end of their constructor. */
    final void start() {
        worker.start();
    }

    // ---- data path ------------------------------------------------------------------------------------------------

    private int forwardRound(DeviceSnapshot[] devices, int count) {
        this.devices = devices;
        try {
            if (dirtyCount > 0) {
                flushRx(); // a round cut short by a memory fault left receive buffers unpublished
            }
            return forward(count);
        } finally {
            this.devices = null;
        }
    }

    /** One round over slots below {@code count}; {@link #devices} holds their running devices. */
    abstract int forward(int count);

    /**
     * Takes up to {@link #TX_BURST} frames from each transmit queue of {@code src} and hands each to
     * {@link #onFrame}; then completes them, flushes the receive queues written meanwhile and calls whoever asked.
     */
    final int drainTx(PortState src, DeviceSnapshot device) {
        int moved = 0;
        List<QueuePair> pairs = device.pairs();
        for (int p = 0; p < pairs.size(); p++) {
            QueuePair in = pairs.get(p);
            var net = in.net();
            int hdr = net.headerSize();
            int frames = 0;
            int length;
            while (frames < TX_BURST && (length = net.pollTx(chain, header)) != vnet.virtio.net.NetDevice.NONE) {
                src.txFrames++;
                src.txBytes += length;
                sending = src;
                try {
                    if (length > src.txFrameLimit && exceedsMtu(src, hdr, length)) {
                        src.dropsMtu++;
                    } else {
                        Capture c = src.capture;
                        if (c != null) {
                            record(c, header, chain, hdr, length);
                        }
                        frameOffset = hdr;
                        frameLength = length;
                        flowHashValid = false;
                        onFrame(src, in.index(), hdr, length);
                    }
                } catch (InternalError e) {
                    // A memory fault outside a delivery (see deliveryFault), or in the sender's memory: the worker
                    // breaks the port it belongs to; if that was not the sender, its chain completes and it goes on.
                    if (devices[src.slot] != null) {
                        worker.fault(e);
                    }
                    if (devices[src.slot] == null) {
                        flushRx(); // what reached other ports in this burst
                        return moved + frames;
                    }
                }
                net.completeTx(chain);
                frames++;
            }
            if (frames > 0 || net.txPending()) {
                if (net.flushTx()) {
                    in.callTx();
                }
                flushRx();
            }
            moved += frames;
        }
        return moved;
    }

    /** Forwards the frame in {@link #chain} (at {@code offset}, {@code length} bytes, header in {@link #header}). */
    abstract void onFrame(PortState src, int pair, int offset, int length);

    /**
     * The receive pair of {@code device} that the current frame goes to: the only one, or with several (multiqueue)
     * the one its flow hash picks, so that one TCP or UDP flow keeps one queue.
     */
    final QueuePair rxPair(DeviceSnapshot device, int pair) {
        List<QueuePair> pairs = device.pairs();
        int n = pairs.size();
        if (n == 1) {
            return pairs.get(0);
        }
        if (!flowHashValid) {
            flowHash = FlowHash.of(chain, frameOffset, frameLength, flowBytes);
            flowHashValid = true;
        }
        return pairs.get(Integer.remainderUnsigned(flowHash, n));
    }

    /** Delivers the frame in {@link #chain} to {@code dst} unchanged: one copy, guest to guest. */
    final void deliver(PortState dst, int pair, int offset, int length) {
        DeviceSnapshot d = devices[dst.slot];
        if (d == null) {
            dst.dropsNoRxBuffer++;
            return;
        }
        QueuePair out = rxPair(d, pair);
        if (GsoSegmenter.mustSegment(header, out.net().features())) {
            segmentTo(dst, out, header, null, offset, length);
            return;
        }
        int r;
        try {
            r = out.net().deliverToRx(header, chain, offset, length);
        } catch (InternalError e) {
            deliveryFault(e);
            return;
        }
        if (r > 0) {
            delivered(dst, out, length);
            Capture c = dst.capture;
            if (c != null) {
                record(c, header, chain, offset, length);
            }
        } else {
            dst.countDrop(r);
        }
    }

    /** Delivers a frame held in {@code frame} (e.g. re-tagged in a scratch buffer) to {@code dst}. */
    final int deliver(PortState dst, int pair, VirtioNetHeader h, org.agrona.MutableDirectBuffer frame, int length) {
        DeviceSnapshot d = devices[dst.slot];
        if (d == null) {
            dst.dropsNoRxBuffer++;
            return vnet.virtio.net.NetDevice.DROP_NO_BUFFER;
        }
        QueuePair out = rxPair(d, pair);
        if (GsoSegmenter.mustSegment(h, out.net().features())) {
            return segmentTo(dst, out, h, frame, 0, length);
        }
        boolean wire = !GsoSegmenter.needsWork(h);
        Capture c = dst.capture;
        if (c != null && !wire) {
            record(c, h, frame, length); // before NetDevice may complete the checksum in place
        }
        int r;
        try {
            r = out.net().deliverToRx(h, frame, 0, length);
        } catch (InternalError e) {
            deliveryFault(e);
            return vnet.virtio.net.NetDevice.DROP_BAD_BUFFER;
        }
        if (r > 0) {
            delivered(dst, out, length);
            if (c != null && wire) {
                c.record(frame, 0, length);
            }
        } else {
            dst.countDrop(r);
        }
        return r;
    }

    /**
     * A memory fault while copying a frame into a receiver: the worker breaks whichever port's memory was cut short.
     * If it was the receiver's, the frame still goes to its other destinations; if the sender's, the frame is lost
     * and the fault goes up to {@link #drainTx}, which ends the sender's burst.
     */
    private void deliveryFault(InternalError e) {
        worker.fault(e);
        PortState src = sending;
        if (src != null && devices[src.slot] == null) {
            throw e;
        }
    }

    // ---- software offloads: for receivers and captures that cannot take a GSO frame or a partial checksum ----

    /**
     * Segments the frame (in {@code frame}, or in {@link #chain} at {@code offset} when {@code frame} is null) in
     * software into {@code out}'s receive buffers, and into {@code dst}'s capture. Returns the segments made, or
     * {@link vnet.virtio.net.NetDevice#DROP_OFFLOAD} (counted) when the frame cannot be segmented.
     */
    private int segmentTo(PortState dst, QueuePair out, VirtioNetHeader h, org.agrona.MutableDirectBuffer frame,
            int offset, int length) {
        segmentDst = dst;
        segmentOut = out;
        segmentCapture = dst.capture;
        segmentFaulted = false;
        int n = frame == null ? segmenter.segment(h, chain, offset, length, toReceiver)
                : segmenter.segment(h, frame, offset, length, toReceiver);
        segmentDst = null;
        segmentOut = null;
        segmentCapture = null;
        if (n < 0) {
            dst.dropsOffload++;
            return vnet.virtio.net.NetDevice.DROP_OFFLOAD;
        }
        return n;
    }

    private void deliverSegment(VirtioNetHeader h, org.agrona.MutableDirectBuffer frame, int length) {
        if (segmentFaulted) {
            return; // the receiver's memory failed on an earlier segment: its port is broken now
        }
        int r;
        try {
            r = segmentOut.net().deliverToRx(h, frame, 0, length);
        } catch (InternalError e) {
            segmentFaulted = true;
            deliveryFault(e);
            return;
        }
        if (r > 0) {
            delivered(segmentDst, segmentOut, length);
            if (segmentCapture != null) {
                segmentCapture.record(frame, 0, length);
            }
        } else {
            segmentDst.countDrop(r);
        }
    }

    /** Records a frame in a capture as a wire would carry it: segmented, checksums complete. */
    private void record(Capture c, VirtioNetHeader h, org.agrona.DirectBuffer frame, int length) {
        segmentCapture = c;
        segmenter.segment(h, frame, 0, length, toCapture);
        segmentCapture = null;
    }

    private void record(Capture c, VirtioNetHeader h, DescriptorChain from, int offset, int length) {
        if (!GsoSegmenter.needsWork(h)) {
            c.record(from, offset, length);
            return;
        }
        segmentCapture = c;
        segmenter.segment(h, from, offset, length, toCapture);
        segmentCapture = null;
    }

    private void captureSegment(VirtioNetHeader h, org.agrona.MutableDirectBuffer frame, int length) {
        segmentCapture.record(frame, 0, length);
    }

    /** Whether a non-GSO frame of {@code length} (over {@code src}'s limit) exceeds its {@code mtu=}, tag allowed. */
    private boolean exceedsMtu(PortState src, int offset, int length) {
        if (header.isGso()) {
            return false;
        }
        if (length > src.txFrameLimit + 4) {
            return true;
        }
        chain.read(offset + 12, ethType, 0, 2);
        return (ethType.getShort(0, java.nio.ByteOrder.BIG_ENDIAN) & 0xFFFF) != 0x8100;
    }

    /** Whether delivering a frame with header {@code h} to {@code dst} would complete its checksum in place. */
    final boolean completesChecksum(PortState dst, int pair, VirtioNetHeader h) {
        DeviceSnapshot d = devices[dst.slot];
        return d != null && h.needsCsum() && (rxPair(d, pair).net().features() & Features.GUEST_CSUM) == 0;
    }

    private void delivered(PortState dst, QueuePair out, int length) {
        dst.rxFrames++;
        dst.rxBytes += length;
        int bit = Math.min(out.index(), 63);
        if (dst.dirtyPairs == 0) {
            dirty[dirtyCount++] = dst.slot;
        }
        dst.dirtyPairs |= 1L << bit;
    }

    /** Publishes the receive buffers used since the last flush and calls the drivers that asked for it. */
    final void flushRx() {
        for (int i = 0; i < dirtyCount; i++) {
            PortState dst = slots[dirty[i]];
            DeviceSnapshot d = devices[dirty[i]];
            if (dst == null) {
                continue;
            }
            long mask = dst.dirtyPairs;
            dst.dirtyPairs = 0;
            if (d == null) {
                continue;
            }
            List<QueuePair> pairs = d.pairs();
            for (int p = 0; p < pairs.size(); p++) {
                QueuePair q = pairs.get(p);
                if ((mask & (1L << Math.min(q.index(), 63))) != 0 && q.net().flushRx()) {
                    q.callRx();
                }
            }
        }
        dirtyCount = 0;
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
        boolean[] used = new boolean[slots.length];
        for (PortState s : byName.values()) {
            used[s.slot] = true;
        }
        for (int i = 0; i < used.length && slot < 0; i++) {
            if (!used[i]) {
                slot = i;
            }
        }
        PortState state = new PortState(slot, definition, port);
        byName.put(definition.name(), state);
        port.setDataPath(worker); // bound before the worker can see it, so its snapshot changes quiesce us
        try {
            worker.execute(() -> {
                slots[state.slot] = state;
                worker.setPort(state.slot, port);
                attached(state);
            });
        } catch (RuntimeException e) {
            byName.remove(definition.name());
            port.setDataPath(DataPath.NONE);
            throw e;
        }
        LOG.log(Level.INFO, "vnet {0} {1}: port {2} attached ({3})", kind(), name, definition.name(), definition.endpoint());
    }

    @Override
    public final synchronized DevicePort detach(String portName) {
        PortState state = byName.remove(portName);
        if (state == null) {
            return null;
        }
        Capture[] capture = new Capture[1];
        worker.execute(() -> {
            slots[state.slot] = null;
            worker.setPort(state.slot, null);
            detached(state);
            capture[0] = state.capture;
            state.capture = null;
        });
        state.port.setDataPath(DataPath.NONE);
        if (capture[0] != null) {
            capture[0].close();
        }
        LOG.log(Level.INFO, "vnet {0} {1}: port {2} detached", kind(), name, portName);
        return state.port;
    }

    /** Worker thread: a port entered its slot. */
    void attached(PortState state) {
    }

    /** Worker thread: a port's memory faulted; its device is out of the rounds until it publishes a new one. */
    void faulted(PortState state) {
    }

    /** Worker thread: a port left its slot (flush what refers to it). */
    void detached(PortState state) {
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

    private static FabricPort view(PortState s) {
        PortDefinition d = s.definition;
        return new FabricPort(d.name(), d.options(), d.vlan(), d.monitor(), d.endpoint(), s.port.device() != null,
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
        worker.execute(() -> {
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
        Capture[] old = new Capture[1];
        try {
            worker.execute(() -> {
                old[0] = s.capture;
                s.capture = capture;
            });
        } catch (RuntimeException e) {
            capture.close();
            throw e;
        }
        if (old[0] != null) {
            old[0].close();
        }
        LOG.log(Level.INFO, "vnet {0} {1}: capturing port {2} to {3}", kind(), name, portName, file);
    }

    @Override
    public final void stopCapture(String portName) {
        PortState s = state(portName);
        Capture[] old = new Capture[1];
        worker.execute(() -> {
            old[0] = s.capture;
            s.capture = null;
        });
        if (old[0] != null) {
            old[0].close();
            LOG.log(Level.INFO, "vnet {0} {1}: capture of port {2} stopped ({3})", kind(), name, portName, old[0].path());
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
        worker.close();
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
