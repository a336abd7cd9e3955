package vnet.switching;

import java.util.List;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.QueuePair;
import vnet.virtio.net.Features;
import vnet.virtio.net.GsoSegmenter;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;

/**
 * The data path of one worker of a link or switch: everything here runs on that worker's thread and is owned by it.
 * Each round it delivers what other workers handed it ({@link Handoff}), then takes a bounded burst from the transmit
 * queues of the ports whose transmit side it serves and hands each frame to {@link #onFrame}, which the p2p link and
 * the switch implement. A frame for a port whose receive side this worker serves is copied once, guest to guest;
 * one for a port another worker serves goes into the hand-off ring to that worker, because every receive virtqueue
 * has exactly one producer. Receive queues are flushed once per burst, and only those written.
 */
abstract class Forwarder {
    /** Frames taken from one transmit queue per round, so that one busy port cannot starve the others. */
    static final int TX_BURST = 64;

    /** This worker's number (0 .. workers-1). */
    final int index;
    /** This worker's view of the port slots; set by commands on this worker only. */
    final PortState[] slots;
    /** The worker thread that runs this; set once before it starts. */
    ForwardingWorker worker;
    /** The rings between the workers, or null with one worker (or a p2p link, whose directions never cross). */
    final Handoff handoff;

    /** The devices of the current round, by slot: those of the ports this worker serves a side of. */
    DeviceSnapshot[] devices;
    /** The frame being forwarded: in {@link #chain} (a sender's transmit buffer, one of the burst) with its header. */
    DescriptorChain chain;
    VirtioNetHeader header;
    /** A transmit burst, taken at once (see NetDevice.pollTxBurst). */
    private final DescriptorChain[] burst = new DescriptorChain[TX_BURST];
    private final VirtioNetHeader[] burstHeaders = new VirtioNetHeader[TX_BURST];
    private final int[] burstLengths = new int[TX_BURST];
    /** The burst's frames' first 16 bytes, two little-endian words each (see NetDevice.pollTxBurst). */
    private final long[] burstHeads = new long[2 * TX_BURST];
    /** The port whose transmit burst is being forwarded (for memory faults in mid-frame), or null. */
    private PortState sending;
    /**
     * The burst in flight (see {@link #forwardBurst}): its queue pair, or null when every chain taken was completed;
     * its sender and the sender's device; while it is being taken, where the transmit queue stood before
     * ({@link #burstTaking}, {@link #burstMark}); the chains taken; the first not yet forwarded and completed; the
     * frame being forwarded, and the one already tried twice. A memory fault can surface anywhere in the thread (see
     * ForwardingWorker#fault), and a bug can throw; the next round resumes the burst, so that no chain of a port
     * that did not fault stays taken.
     */
    private QueuePair burstPair;
    private PortState burstSrc;
    private DeviceSnapshot burstDevice;
    private boolean burstTaking;
    private int burstMark;
    private int burstFrames;
    private int burstNext;
    private int burstTrying;
    private int burstRetried;
    /** Transmit bursts taken so far (for {@link #deliver}'s read-ahead of a receive ring). */
    private long burstSeq;
    /** Slots whose receive pairs await a flush. */
    private final int[] dirty;
    private int dirtyCount;
    /** Workers handed frames since the last {@link #flushHandoff()} (bit i = worker i, for waking sleepers). */
    private long handedTo;

    /** The current frame's place and its flow hash, computed when first needed (see {@link #rxPair}). */
    private final UnsafeBuffer flowBytes = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(FlowHash.BYTES));
    private DirectBuffer frameBuffer;
    private int frameOffset;
    private int frameLength;
    private int flowHash;
    private boolean flowHashValid;

    /** The software offload fallback (see the section "software offloads"). */
    private final GsoSegmenter segmenter = new GsoSegmenter();
    private final GsoSegmenter.Sink toReceiver = this::deliverSegment;
    private final GsoSegmenter.Sink toCapture = this::captureSegment;
    private final UnsafeBuffer ethType = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(2));
    private PortState segmentDst;
    private QueuePair segmentOut;
    private Capture segmentCapture;
    private boolean segmentFaulted;

    /** A frame another worker handed over, and its header, being delivered (see {@link #received}). */
    private final UnsafeBuffer handedFrame = new UnsafeBuffer(0, 0);
    private final VirtioNetHeader handedHeader = new VirtioNetHeader();
    /** Takes this worker's hand-off records (see {@link #handOver}). */
    final org.agrona.concurrent.MessageHandler handedOver = this::handOver;

    Forwarder(int index, int maxPorts, Handoff handoff) {
        this.index = index;
        this.slots = new PortState[maxPorts];
        this.dirty = new int[maxPorts];
        this.handoff = handoff;
        for (int i = 0; i < TX_BURST; i++) {
            burst[i] = new DescriptorChain();
            burstHeaders[i] = new VirtioNetHeader();
        }
        chain = burst[0];
        header = burstHeaders[0];
    }

    /** One round of the worker: {@code devices} holds slot i's running device (or null) for i below {@code count}. */
    final int round(DeviceSnapshot[] devices, int count) {
        this.devices = devices;
        try {
            if (burstPair != null) {
                resumeBurst(); // a round cut short by a fault (or a bug) left a burst half forwarded
            }
            if (dirtyCount > 0) {
                flushRx(); // ... or receive buffers unpublished
            }
            int work = 0;
            if (handoff != null) {
                work = handoff.receive(this);
                flushRx();
            }
            work += forward(count);
            flushHandoff();
            return work;
        } finally {
            if (dirtyCount > 0) {
                releaseRx(); // a round cut short: no receive chain stays taken ahead while the control plane may look
            }
            this.devices = null;
        }
    }

    /** Whether other workers handed this one something not yet delivered (for the worker's decision to sleep). */
    final boolean hasIncoming() {
        return handoff != null && handoff.hasIncoming(index);
    }

    /** Drains the transmit queues this worker serves, slots below {@code count}; returns the frames moved. */
    abstract int forward(int count);

    /** Forwards the frame in {@link #chain} (at {@code offset}, {@code length} bytes, header in {@link #header}). */
    abstract void onFrame(PortState src, int pair, int offset, int length);

    /** Whether this worker takes {@code src}'s transmitted frames this round. */
    final boolean drains(PortState src, DeviceSnapshot device) {
        return src != null && device != null && src.txWorker == index;
    }

    /**
     * Takes up to {@link #TX_BURST} frames from each transmit queue of {@code src} and hands each to
     * {@link #onFrame}; then completes them, flushes the receive queues written meanwhile and calls whoever asked.
     */
    final int drainTx(PortState src, DeviceSnapshot device) {
        int moved = 0;
        List<QueuePair> pairs = device.pairs();
        for (int p = 0; p < pairs.size(); p++) {
            QueuePair in = pairs.get(p);
            NetDevice net = in.net();
            burstSrc = src;
            burstDevice = device;
            burstMark = net.txMark();
            burstTaking = true;
            burstPair = in; // from here on the burst is in flight: cut short while taken, it is given back
            int frames = takeTxBurst(net);
            burstFrames = frames;
            burstNext = 0;
            burstTrying = -1;
            burstRetried = -1;
            burstTaking = false; // from here on each chain taken is completed, on resume if cut short
            burstSeq++;
            long bytes = 0;
            int good = 0;
            for (int k = 0; k < frames; k++) {
                int length = burstLengths[k];
                if (length >= 0) {
                    bytes += length;
                    good++;
                }
            }
            src.txFrames += good; // per burst: a store per frame less in a loop that waits on guest memory stores
            src.txBytes += bytes;
            moved += forwardBurst();
            if (devices[src.slot] == null) {
                return moved; // the sender's memory faulted
            }
        }
        return moved;
    }

    /**
     * Word {@code i} (0: bytes 0..7, 1: bytes 8..15, little-endian) of the frame {@link #onFrame} is forwarding: the
     * Ethernet header from the burst's decode, without another read of guest memory.
     */
    final long frameHead(int i) {
        return burstHeads[2 * burstTrying + i];
    }

    /** Takes a transmit burst into the burst's arrays (see NetDevice.pollTxBurst); tests cut a round short here. */
    int takeTxBurst(NetDevice net) {
        return net.pollTxBurst(burst, burstHeaders, burstLengths, burstHeads, TX_BURST);
    }

    /**
     * Forwards the frames of the burst in flight from {@link #burstNext} on, completes them, publishes the transmit
     * and receive queues written and calls whoever asked; returns the frames forwarded. Stops early when the sender
     * itself faults: its chains go with its device.
     */
    private int forwardBurst() {
        PortState src = burstSrc;
        QueuePair in = burstPair;
        NetDevice net = in.net();
        int hdr = net.headerSize();
        int frames = burstFrames;
        int from = burstNext;
        sending = src;
        frameBuffer = null; // the frames are in the burst's chains, after the header
        frameOffset = hdr;
        for (int k = from; k < frames; k++) {
            DescriptorChain c = burst[k];
            chain = c;
            header = burstHeaders[k];
            int length = burstLengths[k];
            burstTrying = k;
            try {
                if (length < 0) {
                    // NetDevice.TX_SKIP: a chain the driver may not send (counted); it only goes back
                } else if (length > src.txFrameLimit && exceedsMtu(src, hdr, length)) {
                    src.dropsMtu++;
                } else {
                    Capture cap = src.capture;
                    if (cap != null) {
                        record(cap, header, c, hdr, length);
                    }
                    frameLength = length;
                    flowHashValid = false;
                    onFrame(src, in.index(), hdr, length);
                }
            } catch (InternalError e) {
                // A memory fault outside a delivery (see intoRx), or in the sender's memory: the worker
                // breaks the port it belongs to; if that was not the sender, the frame is forwarded once more (the
                // fault may be another port's, raised late here) and the burst goes on.
                if (devices[src.slot] != null) {
                    worker.fault(e);
                }
                if (devices[src.slot] == null) {
                    sending = null;
                    burstPair = null;
                    flushRx(); // what reached other ports in this burst
                    return k - from;
                }
                if (burstRetried != k) {
                    burstRetried = k;
                    k--; // the same frame again
                    continue;
                }
            }
            // Before the completion: should a fault surface inside it, the resumed burst may lose this buffer but
            // never returns it twice (a used id twice breaks the driver's ring).
            burstNext = k + 1;
            net.completeTx(c);
        }
        sending = null;
        if (frames > 0 || net.txPending()) {
            if (net.flushTx()) {
                in.callTx();
            }
            flushRx();
        }
        burstPair = null;
        return frames - from;
    }

    /**
     * Finishes the burst a fault cut short, unless its sender has left or broken meanwhile; one cut short while being
     * taken is given back, to be taken again. The frame being forwarded when it was cut short is not tried again,
     * only completed: a frame that makes forwarding throw would otherwise stop the worker on it for ever.
     */
    private void resumeBurst() {
        PortState src = burstSrc;
        if (slots[src.slot] != src || devices[src.slot] != burstDevice) {
            burstPair = null; // its chains went with its device
            return;
        }
        if (burstTaking) {
            burstPair.net().rewindTx(burstMark); // cut short while taken: none completed, all given back
            burstPair = null;
            return;
        }
        burstSeq++; // devices may have changed since the round cut short: deliver's per-burst cache starts again
        int k = burstNext;
        if (burstTrying == k) {
            burstNext = k + 1;
            burstPair.net().completeTx(burst[k]);
        }
        forwardBurst();
    }

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
            flowHash = frameBuffer == null ? FlowHash.of(chain, frameOffset, frameLength, flowBytes)
                    : FlowHash.of(frameBuffer, frameOffset, frameLength, flowBytes);
            flowHashValid = true;
        }
        return pairs.get(FlowHash.pairOf(flowHash, n));
    }

    /** Delivers the frame in {@link #chain} to {@code dst} unchanged: one copy, guest to guest. */
    final void deliver(PortState dst, int pair, int offset, int length) {
        if (dst.rxWorker != index) {
            handOff(dst, pair, header, null, offset, length);
            return;
        }
        DeviceSnapshot d = devices[dst.slot];
        if (d == null) {
            dst.dropsNoRxBuffer++;
            return;
        }
        QueuePair out;
        if (dst.reservedBurst == burstSeq && dst.burstRxPair != null) {
            out = dst.burstRxPair;
        } else {
            out = rxPair(d, pair);
            if (dst.reservedBurst != burstSeq) { // the burst's first frame for dst: take its chains for the rest
                dst.reservedBurst = burstSeq;
                dst.burstRxPair = d.pairs().size() == 1 ? out : null;
                out.net().reserveRx(burstFrames - burstTrying);
                dirty(dst, out); // the flush gives back what no frame used
            }
        }
        if (GsoSegmenter.mustSegment(header, out.net().features())) {
            segmentTo(dst, out, header, null, offset, length);
            return;
        }
        int r = intoRx(dst, out, header, null, offset, length);
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

    /** Delivers a frame held in {@code frame} at 0 (e.g. re-tagged in a scratch buffer) to {@code dst}. */
    final int deliver(PortState dst, int pair, VirtioNetHeader h, MutableDirectBuffer frame, int length) {
        if (dst.rxWorker != index) {
            return handOff(dst, pair, h, frame, 0, length);
        }
        DeviceSnapshot d = devices[dst.slot];
        if (d == null) {
            dst.dropsNoRxBuffer++;
            return NetDevice.DROP_NO_BUFFER;
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
        int r = intoRx(dst, out, h, frame, 0, length);
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

    /** {@link #intoRx} result: a memory fault cut the delivery short, twice or in the receiver's memory. */
    private static final int FAULTED = NetDevice.DROP_BAD_BUFFER;

    /**
     * Copies the frame (from {@code frame} at {@code offset}, or from {@link #chain} when {@code frame} is null) into
     * {@code out}, a receive pair of {@code dst}: {@link NetDevice#deliverToRx}'s result, or {@link #FAULTED}. A
     * memory fault here breaks whichever port's memory was cut short. If it was the sender's, the frame is lost and
     * the fault goes up to {@link #forwardBurst}, which ends the sender's burst; if the receiver's, the frame still
     * goes to its other destinations. If neither's, it was another port's fault that HotSpot raised late, in here:
     * NetDevice gave back the receive buffers it took, and the frame is delivered once more.
     */
    private int intoRx(PortState dst, QueuePair out, VirtioNetHeader h, MutableDirectBuffer frame, int offset,
            int length) {
        for (int attempt = 0; ; attempt++) {
            try {
                return deliverToRx(out.net(), h, frame, offset, length);
            } catch (InternalError e) {
                worker.fault(e);
                PortState src = sending;
                if (src != null && devices[src.slot] == null) {
                    throw e;
                }
                if (attempt > 0 || devices[dst.slot] == null) {
                    return FAULTED;
                }
            }
        }
    }

    /** One delivery into a receive queue (see {@link #intoRx}); tests cut a round short here. */
    int deliverToRx(NetDevice net, VirtioNetHeader h, MutableDirectBuffer frame, int offset, int length) {
        return frame == null ? net.deliverToRx(h, chain, offset, length) : net.deliverToRx(h, frame, offset, length);
    }

    // ---- hand-off: frames for ports another worker serves ----------------------------------------------------

    /**
     * Copies the frame (from {@code frame} at {@code offset}, or from {@link #chain} when {@code frame} is null) into
     * the ring to {@code dst}'s receive worker, which delivers it in its next round. A full ring drops the frame,
     * counted as the receiver's lack of room.
     */
    private int handOff(PortState dst, int pair, VirtioNetHeader h, DirectBuffer frame, int offset, int length) {
        if (!handoff.sendFrame(index, dst, pair, h, frame, chain, offset, length)) {
            dst.handoffDrops[index]++;
            return NetDevice.DROP_NO_BUFFER;
        }
        handedTo |= 1L << dst.rxWorker;
        return 1;
    }

    /**
     * One record another worker handed this one ({@link Handoff#dispatch}). The ring counts a record as read before
     * its handler runs, so a memory fault raised late in here (another port's: see {@link #intoRx}) is blamed and the
     * record handled once more: a frame may then arrive twice, but not never.
     */
    private void handOver(int type, MutableDirectBuffer b, int at, int length) {
        try {
            Handoff.dispatch(this, type, b, at, length);
        } catch (InternalError e) {
            worker.fault(e);
            Handoff.dispatch(this, type, b, at, length);
        }
    }

    /** Wakes the workers handed frames since the last call, if they sleep (notification mode). */
    final void flushHandoff() {
        long w = handedTo;
        if (w != 0) {
            handoff.wakeSleepers(w);
            handedTo = 0; // only now: a fault surfacing in a wake-up leaves them all to the next round's flush
        }
    }

    /** A frame another worker handed over for {@code dst} (a port whose receive side this worker serves). */
    final void received(PortState dst, int pair, DirectBuffer ring, int headerAt, int frameAt, int length) {
        handedHeader.decode(ring, headerAt, VirtioNetHeader.SIZE_NUM_BUFFERS);
        handedFrame.wrap(ring.addressOffset() + frameAt, length);
        frameBuffer = handedFrame;
        frameOffset = 0;
        frameLength = length;
        flowHashValid = false;
        deliver(dst, pair, handedHeader, handedFrame, length);
    }

    /** Another worker learned {@code mac} on {@code port} (switches override). */
    void learned(long mac, int vlan, PortState port) {
    }

    /** Another worker's port faulted: forget what was learned on it (switches override). */
    void forget(PortState port) {
    }

    // ---- software offloads: for receivers and captures that cannot take a GSO frame or a partial checksum ----

    /**
     * Segments the frame (in {@code frame}, or in {@link #chain} at {@code offset} when {@code frame} is null) in
     * software into {@code out}'s receive buffers, and into {@code dst}'s capture. Returns the segments made, or
     * {@link NetDevice#DROP_OFFLOAD} (counted) when the frame cannot be segmented.
     */
    private int segmentTo(PortState dst, QueuePair out, VirtioNetHeader h, MutableDirectBuffer frame, int offset,
            int length) {
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
            return NetDevice.DROP_OFFLOAD;
        }
        return n;
    }

    private void deliverSegment(VirtioNetHeader h, MutableDirectBuffer frame, int length) {
        if (segmentFaulted) {
            return; // the receiver's memory failed on an earlier segment: its port is broken now
        }
        int r = intoRx(segmentDst, segmentOut, h, frame, 0, length);
        segmentFaulted = r == FAULTED; // the receiver's queue broke, or its memory: no use going on
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
    private void record(Capture c, VirtioNetHeader h, DirectBuffer frame, int length) {
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

    private void captureSegment(VirtioNetHeader h, MutableDirectBuffer frame, int length) {
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

    /** Whether delivering a frame with header {@code h} to {@code dst} here would complete its checksum in place. */
    final boolean completesChecksum(PortState dst, int pair, VirtioNetHeader h) {
        DeviceSnapshot d = dst.rxWorker == index ? devices[dst.slot] : null;
        return d != null && h.needsCsum() && (rxPair(d, pair).net().features() & Features.GUEST_CSUM) == 0;
    }

    private void delivered(PortState dst, QueuePair out, int length) {
        dst.rxFrames++;
        dst.rxBytes += length;
        dirty(dst, out);
    }

    /** Marks {@code out}, a receive pair of {@code dst}, for {@link #flushRx}. */
    private void dirty(PortState dst, QueuePair out) {
        int bit = Math.min(out.index(), 63);
        if (dst.dirtyPairs == 0) {
            dirty[dirtyCount++] = dst.slot;
        }
        dst.dirtyPairs |= 1L << bit;
    }

    /** Gives back the receive chains taken ahead and not used, of the pairs awaiting a flush (no guest memory access). */
    private void releaseRx() {
        for (int i = 0; i < dirtyCount; i++) {
            DeviceSnapshot d = devices[dirty[i]];
            if (d != null) {
                List<QueuePair> pairs = d.pairs();
                for (int p = 0; p < pairs.size(); p++) {
                    pairs.get(p).net().releaseRx();
                }
            }
        }
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
            if (d != null && mask != 0) {
                List<QueuePair> pairs = d.pairs();
                for (int p = 0; p < pairs.size(); p++) {
                    QueuePair q = pairs.get(p);
                    if ((mask & (1L << Math.min(q.index(), 63))) != 0 && q.net().flushRx()) {
                        q.callRx();
                    }
                }
            }
            dst.dirtyPairs = 0; // only now: a fault surfacing above leaves this port to the next round's flush
        }
        dirtyCount = 0;
    }

    // ---- control plane, on this worker's thread (commands) ------------------------------------------------------

    /** A port entered its slot. */
    void attached(PortState state) {
    }

    /** A port's memory faulted on this worker; its device is out of the rounds until it publishes a new one. */
    void faulted(PortState state) {
    }

    /** A port left its slot (flush what refers to it). */
    void detached(PortState state) {
    }
}
