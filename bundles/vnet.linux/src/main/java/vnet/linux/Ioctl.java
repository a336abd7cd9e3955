package vnet.linux;

import java.nio.ByteBuffer;

/**
 * {@code ioctl(2)}, with the three kinds of argument drivers take: a value (or a native address), an in/out
 * structure as bytes (a {@code struct ifreq} for TUNSETIFF, say), and an in/out {@code int}.
 */
public final class Ioctl {
    private Ioctl() {}

    /** {@code ioctl(fd, request, arg)} with {@code arg} passed as a value (or as a native address). */
    public static int ioctl(Fd fd, long request, long arg) throws LinuxException {
        int result = LibC.ioctl(fd.fd(), request, arg);
        if (result < 0) {
            throw failure(request);
        }
        return result;
    }

    /** {@code ioctl(fd, request, struct)}: the kernel reads and may update the bytes of {@code struct}. */
    public static int ioctl(Fd fd, long request, byte[] struct) throws LinuxException {
        int result = LibC.ioctl(fd.fd(), request, struct);
        if (result < 0) {
            throw failure(request);
        }
        return result;
    }

    /**
     * {@code ioctl(fd, request, &buffer[position])}: the kernel reads and may update {@code struct} from its
     * position (direct or heap buffer; the position does not move).
     */
    public static int ioctl(Fd fd, long request, ByteBuffer struct) throws LinuxException {
        int result = LibC.ioctl(fd.fd(), request, struct);
        if (result < 0) {
            throw failure(request);
        }
        return result;
    }

    /** {@code ioctl(fd, request, &value[0])}, for requests that read or return an {@code int} through a pointer. */
    public static int ioctl(Fd fd, long request, int[] value) throws LinuxException {
        int result = LibC.ioctl(fd.fd(), request, value);
        if (result < 0) {
            throw failure(request);
        }
        return result;
    }

    private static LinuxException failure(long request) {
        return LinuxException.last("ioctl(0x" + Long.toHexString(request) + ")");
    }
}
