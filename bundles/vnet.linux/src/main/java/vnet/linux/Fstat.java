package vnet.linux;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;

/**
 * What {@code fstat(2)} says about an open file: enough to tell whether two descriptors (say, a memory fd received
 * from a guest and a trusted dataspace) refer to the same file. Read with the raw system call, so it needs no
 * particular glibc.
 *
 * @param dev  {@code st_dev}, the device
 * @param ino  {@code st_ino}, the inode
 * @param mode {@code st_mode}, type and permission bits
 * @param size {@code st_size}, in bytes
 */
public record Fstat(long dev, long ino, int mode, long size) {
    /** {@code S_IFMT}: the file type bits of {@link #mode()}. */
    public static final int S_IFMT = 0170000;
    /** A regular file (memfds are). */ public static final int S_IFREG = 0100000;
    /** A socket. */ public static final int S_IFSOCK = 0140000;
    /** A character device. */ public static final int S_IFCHR = 0020000;

    /** {@code fstat} of an owned descriptor. */
    public static Fstat of(Fd fd) throws LinuxException {
        return of(fd.fd());
    }

    /** {@code fstat} of a raw descriptor number (one just received, say). */
    public static Fstat of(int fd) throws LinuxException {
        try (Memory stat = new Memory(Arch.STAT_SIZE)) {
            if (LibC.syscall(Arch.SYS_FSTAT, fd, Pointer.nativeValue(stat), 0) < 0) {
                throw LinuxException.last("fstat", "fd " + fd);
            }
            return new Fstat(stat.getLong(0), stat.getLong(8), stat.getInt(Arch.STAT_MODE_OFFSET), stat.getLong(48));
        }
    }

    /** Whether {@code other} describes the same file (same device and inode). */
    public boolean sameFile(Fstat other) {
        return dev == other.dev && ino == other.ino;
    }

    /** Whether this is a regular file. */
    public boolean isRegularFile() {
        return (mode & S_IFMT) == S_IFREG;
    }
}
