package vnet.transport.shm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import vnet.linux.Fstat;

/**
 * A file's identity as (device, inode): how a received memory file descriptor is matched against the
 * trusted dataspaces configured by path, whatever name or descriptor number it arrives under.
 */
public record FileIdentity(long device, long inode) {

    /** The identity of the file at {@code path} (following links, as the kernel does for /proc/self/fd/N). */
    public static FileIdentity of(Path path) throws IOException {
        Object dev = Files.getAttribute(path, "unix:dev");
        Object ino = Files.getAttribute(path, "unix:ino");
        return new FileIdentity(((Number) dev).longValue(), ((Number) ino).longValue());
    }

    /** The identity of an open file descriptor of this process ({@code fstat}). */
    public static FileIdentity ofDescriptor(int fd) throws IOException {
        return of(Fstat.of(fd));
    }

    /** The identity an {@code fstat} already gave. */
    public static FileIdentity of(Fstat stat) {
        return new FileIdentity(stat.dev(), stat.ino());
    }

    @Override
    public String toString() {
        return "dev=" + device + " ino=" + inode;
    }
}
