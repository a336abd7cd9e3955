package vnet.linux;

import com.sun.jna.Pointer;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A memory mapping made by {@link Mman#mmap}: {@link #length()} bytes at {@link #address()}. Lengths are
 * {@code long}s (regions may exceed 2 GiB). {@link #close()} unmaps, once; the address must not be used after.
 */
public final class Mapping implements AutoCloseable {
    private final long base;
    private final long mapLength;
    private final long address;
    private final long length;
    private final AtomicBoolean mapped = new AtomicBoolean(true);

    Mapping(long base, long mapLength, long address, long length) {
        this.base = base;
        this.mapLength = mapLength;
        this.address = address;
        this.length = length;
    }

    /** The virtual address of the first byte asked for (the requested file offset). */
    public long address() {
        return address;
    }

    /** The number of bytes asked for. */
    public long length() {
        return length;
    }

    /** Whether the mapping has not been closed yet. */
    public boolean isMapped() {
        return mapped.get();
    }

    /**
     * A direct {@link ByteBuffer} (native byte order) over {@code length} bytes from {@code offset}; valid only while
     * this mapping is: using it after {@link #close()} crashes the JVM.
     */
    public ByteBuffer byteBuffer(long offset, int length) {
        if (!mapped.get()) {
            throw new IllegalStateException("unmapped");
        }
        if (offset < 0 || length < 0 || offset > this.length - length) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + " of " + this.length);
        }
        return new Pointer(address).getByteBuffer(offset, length).order(java.nio.ByteOrder.nativeOrder());
    }

    /** Unmaps ({@code munmap}); later calls do nothing. A failure is an {@link UncheckedIOException}. */
    @Override
    public void close() {
        if (mapped.compareAndSet(true, false)) {
            try {
                Mman.munmap(base, mapLength);
            } catch (LinuxException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public String toString() {
        return "Mapping[0x" + Long.toHexString(address) + ", " + length + " bytes" + (mapped.get() ? "]" : ", unmapped]");
    }
}
