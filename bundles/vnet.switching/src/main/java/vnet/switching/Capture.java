package vnet.switching;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

import vnet.virtqueue.DescriptorChain;

/**
 * A pcap capture of one port's frames. The data path copies each frame (up to {@value #SNAPLEN} bytes) with its
 * timestamp into a preallocated ring buffer and goes on; a writer thread of its own drains the ring into the file
 * in the classic libpcap format (magic a1b2c3d4, version 2.4, link type 1 = Ethernet, microsecond timestamps),
 * which tcpdump, tshark and Wireshark read. A full ring drops the frame from the capture and counts it; the
 * data path never blocks or allocates.
 */
final class Capture implements AutoCloseable {
    private static final Logger LOG = System.getLogger(Capture.class.getName());
    static final int SNAPLEN = 65535;
    private static final int LINKTYPE_ETHERNET = 1;
    private static final int RING_CAPACITY = 4 << 20;
    private static final int RECORD_META = 12; // timestamp (8) + original length (4)
    private static final int MSG_FRAME = 1;

    private final Path path;
    private final FileChannel file;
    /** Many producers: a p2p link with two workers records a port's transmitted and received frames on two threads. */
    private final ManyToOneRingBuffer ring;
    private final long epochOffsetNanos;
    private final ByteBuffer out = ByteBuffer.allocateDirect(16 + SNAPLEN).order(ByteOrder.LITTLE_ENDIAN);
    private final Thread writer;
    private final MessageHandler handler = this::write;
    private volatile boolean closing;
    private volatile IOException failure;
    /** Frames the data path could not capture because the ring was full. */
    private final java.util.concurrent.atomic.AtomicLong dropped = new java.util.concurrent.atomic.AtomicLong();
    private volatile long written;

    /** Creates (or truncates) {@code path}, writes the pcap header and starts the writer thread. */
    Capture(String name, Path path) throws IOException {
        this.path = path;
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        this.file = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(SNAPLEN)
                .putInt(LINKTYPE_ETHERNET).flip();
        while (header.hasRemaining()) {
            file.write(header);
        }
        this.ring = new ManyToOneRingBuffer(new UnsafeBuffer(
                ByteBuffer.allocateDirect(RING_CAPACITY + RingBufferDescriptor.TRAILER_LENGTH)));
        this.epochOffsetNanos = TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis()) - System.nanoTime();
        this.writer = new Thread(this::drainLoop, "vnet-capture-" + name);
        writer.setDaemon(true);
        writer.start();
    }

    Path path() {
        return path;
    }

    /** Frames written to the file so far. */
    long written() {
        return written;
    }

    /** Data path: captures {@code length} bytes of {@code chain}'s readable part from {@code offset}. */
    void record(DescriptorChain chain, int offset, int length) {
        int snap = Math.min(length, SNAPLEN);
        int index = claim(length, snap);
        if (index < 0) {
            return;
        }
        AtomicBuffer b = ring.buffer();
        int got = chain.read(offset, b, index + RECORD_META, snap);
        if (got < snap) {
            b.setMemory(index + RECORD_META + got, snap - got, (byte) 0);
        }
        ring.commit(index);
    }

    /** Data path: captures {@code length} bytes of {@code frame} from {@code offset}. */
    void record(DirectBuffer frame, int offset, int length) {
        int snap = Math.min(length, SNAPLEN);
        int index = claim(length, snap);
        if (index < 0) {
            return;
        }
        ring.buffer().putBytes(index + RECORD_META, frame, offset, snap);
        ring.commit(index);
    }

    /**
     * Claims a record for {@code snap} bytes of a {@code length}-byte frame and writes its timestamp and original
     * length; returns its index, for the caller to fill in the bytes and commit, or -1 (counted as dropped) if the
     * ring is full.
     */
    private int claim(int length, int snap) {
        int index = ring.tryClaim(MSG_FRAME, RECORD_META + snap);
        if (index < 0) {
            dropped.incrementAndGet();
            return -1;
        }
        AtomicBuffer b = ring.buffer();
        b.putLong(index, epochOffsetNanos + System.nanoTime());
        b.putInt(index + 8, length);
        return index;
    }

    private void drainLoop() {
        while (true) {
            int n = ring.read(handler, 256);
            if (n == 0) {
                if (closing && ring.size() == 0) {
                    break;
                }
                LockSupport.parkNanos(2_000_000); // a capture is not latency-critical: never spin
            }
        }
    }

    private void write(int type, MutableDirectBuffer buffer, int index, int length) {
        if (failure != null) {
            return;
        }
        long nanos = buffer.getLong(index);
        int original = buffer.getInt(index + 8);
        int snap = length - RECORD_META;
        out.clear();
        out.putInt((int) (nanos / 1_000_000_000L)).putInt((int) (nanos % 1_000_000_000L / 1000)).putInt(snap)
                .putInt(original);
        buffer.getBytes(index + RECORD_META, out, 16, snap);
        out.limit(16 + snap).position(0);
        try {
            while (out.hasRemaining()) {
                file.write(out);
            }
            written++;
        } catch (IOException e) {
            failure = e;
            LOG.log(Level.WARNING, "vnet capture {0}: cannot write: {1}", path, e.getMessage());
        }
    }

    /** Writes what is still in the ring, then closes the file. Call once the data path no longer records. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            file.force(false);
            file.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "vnet capture {0}: cannot close: {1}", path, e.getMessage());
        }
        if (dropped.get() > 0) {
            LOG.log(Level.INFO, "vnet capture {0}: {1} frames not captured (ring full)", path, dropped.get());
        }
    }
}
