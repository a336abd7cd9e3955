package vnet.switching;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;

/**
 * How the workers of a switch reach each other's ports. Every receive virtqueue has exactly one producer (the worker
 * that serves the port), so a frame taken by one worker for a port served by another is copied into a
 * single-producer, single-consumer ring (Agrona's {@link OneToOneRingBuffer}, one per ordered pair of workers: no
 * lock, no CAS, no allocation) and delivered by the receiving worker at the start of its next round. One ring per
 * pair keeps the frames of one sender to one receiver in order, so a flow keeps its order. A worker that sleeps in
 * epoll (notification mode) is woken after the sender's burst, only if it sleeps.
 *
 * <p>The same rings carry what switches must share: a worker that learns an address (or sees a port's memory fault)
 * tells the others, whose MAC tables are replicas (see {@link Switch}).
 *
 * <p>Records: {@code FRAME} slot, port id, pair (3 ints), the sender's virtio-net header (12 bytes), the frame;
 * {@code LEARN} MAC (long), VLAN, slot, port id; {@code FORGET} slot, port id. A port id that no longer matches the
 * slot (the port left, another took its slot) makes the receiver ignore the record.
 */
final class Handoff {
    /** Bytes of each ring: a 64 KiB GSO frame fits (a record may take an eighth of the ring). */
    static final int RING_BYTES = 1 << 20;

    private static final int FRAME = 1;
    private static final int LEARN = 2;
    private static final int FORGET = 3;
    private static final int FRAME_HEADER_AT = 12;
    private static final int FRAME_AT = FRAME_HEADER_AT + VirtioNetHeader.SIZE_NUM_BUFFERS;
    /** Records one receiver takes from one sender per round. */
    private static final int READ_LIMIT = 256;

    private final int workers;
    /** rings[from][to]; null on the diagonal. */
    private final OneToOneRingBuffer[][] rings;
    private ForwardingWorker[] threads;

    Handoff(int workers) {
        this.workers = workers;
        this.rings = new OneToOneRingBuffer[workers][workers];
        for (int from = 0; from < workers; from++) {
            for (int to = 0; to < workers; to++) {
                if (from != to) {
                    rings[from][to] = new OneToOneRingBuffer(new UnsafeBuffer(
                            ByteBuffer.allocateDirect(RING_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
                }
            }
        }
    }

    /** The worker threads, for waking (before they start). */
    void threads(ForwardingWorker[] workerThreads) {
        this.threads = workerThreads;
    }

    /**
     * Worker {@code from}: copies a frame for {@code dst} into the ring to its receive worker (from {@code frame} at
     * {@code offset}, or from {@code chain}'s readable part at {@code offset} when {@code frame} is null). False when
     * the ring has no room.
     */
    boolean sendFrame(int from, PortState dst, int pair, VirtioNetHeader h, DirectBuffer frame, DescriptorChain chain,
            int offset, int length) {
        OneToOneRingBuffer ring = rings[from][dst.rxWorker];
        int at = ring.tryClaim(FRAME, FRAME_AT + length);
        if (at < 0) {
            return false;
        }
        AtomicBuffer b = ring.buffer();
        try {
            b.putInt(at, dst.slot);
            b.putInt(at + 4, dst.id);
            b.putInt(at + 8, pair);
            h.encode(b, at + FRAME_HEADER_AT, VirtioNetHeader.SIZE_NUM_BUFFERS);
            if (frame != null) {
                b.putBytes(at + FRAME_AT, frame, offset, length);
            } else if (chain.read(offset, b, at + FRAME_AT, length) != length) {
                ring.abort(at);
                return false;
            }
        } catch (InternalError e) { // the sender's memory faulted under the copy: give the record back first
            ring.abort(at);
            throw e;
        }
        ring.commit(at);
        return true;
    }

    /** Worker {@code from} learned {@code mac} in {@code vlan} on {@code port}: tells every other worker. */
    void sendLearn(int from, long mac, int vlan, PortState port) {
        for (int to = 0; to < workers; to++) {
            if (to == from) {
                continue;
            }
            OneToOneRingBuffer ring = rings[from][to];
            int at = ring.tryClaim(LEARN, 20);
            if (at >= 0) { // a full ring loses the news: the receiver floods until the next (see MacTable.news)
                MutableDirectBuffer b = ring.buffer();
                b.putLong(at, mac);
                b.putInt(at + 8, vlan);
                b.putInt(at + 12, port.slot);
                b.putInt(at + 16, port.id);
                ring.commit(at);
            }
        }
    }

    /** Worker {@code from} saw {@code port}'s memory fault: every other worker forgets what it learned there. */
    void sendForget(int from, PortState port) {
        for (int to = 0; to < workers; to++) {
            if (to == from) {
                continue;
            }
            OneToOneRingBuffer ring = rings[from][to];
            int at = ring.tryClaim(FORGET, 8);
            if (at >= 0) {
                ring.buffer().putInt(at, port.slot);
                ring.buffer().putInt(at + 4, port.id);
                ring.commit(at);
            }
        }
    }

    /** Worker {@code f.index}: delivers what the others handed it; returns the records taken. */
    int receive(Forwarder f) {
        int n = 0;
        for (int from = 0; from < workers; from++) {
            if (from != f.index) {
                n += rings[from][f.index].read(f.handedOver, READ_LIMIT);
            }
        }
        return n;
    }

    /** Decodes one record for {@code f} (its {@link Forwarder#handedOver} handler). */
    static void dispatch(Forwarder f, int type, MutableDirectBuffer b, int at, int length) {
        switch (type) {
            case FRAME -> {
                PortState dst = port(f, b.getInt(at), b.getInt(at + 4));
                if (dst != null) {
                    f.received(dst, b.getInt(at + 8), b, at + FRAME_HEADER_AT, at + FRAME_AT, length - FRAME_AT);
                }
            }
            case LEARN -> {
                PortState p = port(f, b.getInt(at + 12), b.getInt(at + 16));
                if (p != null) {
                    f.learned(b.getLong(at), b.getInt(at + 8), p);
                }
            }
            case FORGET -> {
                PortState p = port(f, b.getInt(at), b.getInt(at + 4));
                if (p != null) {
                    f.forget(p);
                }
            }
            default -> throw new IllegalStateException("hand-off record type " + type);
        }
    }

    private static PortState port(Forwarder f, int slot, int id) {
        PortState p = slot >= 0 && slot < f.slots.length ? f.slots[slot] : null;
        return p != null && p.id == id ? p : null;
    }

    /** Whether records wait for worker {@code to}. */
    boolean hasIncoming(int to) {
        for (int from = 0; from < workers; from++) {
            if (from != to && rings[from][to].size() > 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Wakes each worker in {@code mask} (bit i = worker i) that sleeps in epoll. The full fence orders the records'
     * commit before the read of the sleeping flag; the worker sets its flag before it looks at the rings a last time
     * (see ForwardingWorker.sleepUntilKicked), so either it sees the records or the sender sees it sleep.
     */
    void wakeSleepers(long mask) {
        VarHandle.fullFence();
        for (long m = mask; m != 0; m &= m - 1) {
            ForwardingWorker w = threads[Long.numberOfTrailingZeros(m)];
            if (w.sleeping()) {
                w.wake();
            }
        }
    }
}
