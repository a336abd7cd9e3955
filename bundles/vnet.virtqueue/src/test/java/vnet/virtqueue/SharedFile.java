package vnet.virtqueue;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A temporary file mapped twice, as two processes sharing guest memory would see it: {@link #driverView} and
 * {@link #deviceView} are separate {@link FileChannel#map} mappings of the same bytes. Each view maps the whole
 * file; regions are slices of it, so bytes around a region (guards) are mapped too and stray writes are visible.
 */
final class SharedFile implements AutoCloseable {
    final Path path;
    final FileChannel channel;
    final MappedByteBuffer driverView;
    final MappedByteBuffer deviceView;

    SharedFile(int size) throws IOException {
        path = Files.createTempFile("vnet-virtqueue", ".mem");
        channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        channel.truncate(0);
        channel.write(java.nio.ByteBuffer.allocate(1), size - 1);
        driverView = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
        deviceView = channel.map(FileChannel.MapMode.READ_WRITE, 0, size);
    }

    /** A region of guest physical address {@code gpa} over file bytes {@code [offset, offset+length)} of a view. */
    static MemoryRegion region(MappedByteBuffer view, long gpa, int offset, int length) {
        return MemoryRegion.ofBuffer(gpa, view.slice(offset, length).order(java.nio.ByteOrder.LITTLE_ENDIAN));
    }

    @Override
    public void close() throws IOException {
        channel.close();
        Files.deleteIfExists(path);
    }
}
