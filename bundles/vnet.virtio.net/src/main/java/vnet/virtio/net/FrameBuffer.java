package vnet.virtio.net;

import java.nio.ByteBuffer;

import org.agrona.concurrent.UnsafeBuffer;

/**
 * A reusable holder of one Ethernet frame and its {@link VirtioNetHeader}, as taken from a TX queue or handed to an
 * RX queue: allocated once per port, refilled per frame.
 *
 * <p>The frame bytes are {@code buffer()[0, length())}; the header is kept decoded, apart from the frame.
 */
public final class FrameBuffer {

    /**
     * Default capacity: the largest frame a virtio-net device can see with GSO, 14 + 40 + 65535 = 65589 bytes
     * (VIRTIO 1.2 §5.1.6.3), rounded up.
     */
    public static final int DEFAULT_CAPACITY = 65_600;

    private final VirtioNetHeader header = new VirtioNetHeader();
    private final UnsafeBuffer buffer;
    private int length;

    /** Creates a frame buffer of {@link #DEFAULT_CAPACITY} bytes, off-heap. */
    public FrameBuffer() {
        this(DEFAULT_CAPACITY);
    }

    /**
     * Creates a frame buffer.
     *
     * @param capacity the largest frame it holds, in bytes
     */
    public FrameBuffer(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(capacity));
    }

    /** @return the frame's header, decoded; mutable */
    public VirtioNetHeader header() {
        return header;
    }

    /** @return the bytes; the frame is {@code [0, length())} */
    public UnsafeBuffer buffer() {
        return buffer;
    }

    /** @return the frame length in bytes */
    public int length() {
        return length;
    }

    /**
     * Sets the frame length.
     *
     * @param value 0 to {@link #capacity()}
     * @return this
     */
    public FrameBuffer length(int value) {
        if (value < 0 || value > buffer.capacity()) {
            throw new IllegalArgumentException("length " + value + " outside 0.." + buffer.capacity());
        }
        length = value;
        return this;
    }

    /** @return the largest frame this buffer holds */
    public int capacity() {
        return buffer.capacity();
    }

    /**
     * Replaces the frame with a copy of bytes from an array, and clears the header.
     *
     * @param src source
     * @param offset first byte
     * @param len number of bytes
     * @return this
     */
    public FrameBuffer set(byte[] src, int offset, int len) {
        length(len);
        buffer.putBytes(0, src, offset, len);
        header.clear();
        return this;
    }

    /**
     * Copies the frame into an array.
     *
     * @param dst destination, at least {@link #length()} bytes from {@code offset}
     * @param offset where to write
     * @return the frame length
     */
    public int copyTo(byte[] dst, int offset) {
        buffer.getBytes(0, dst, offset, length);
        return length;
    }

    /** @return a new array with the frame (allocates; for tests and logs) */
    public byte[] toByteArray() {
        byte[] b = new byte[length];
        buffer.getBytes(0, b);
        return b;
    }
}
