package vnet.linux;

import com.sun.jna.Native;

/** errno numbers of the Linux generic ABI (x86_64 and aarch64 share them) and their names. */
public final class Errno {
    /** Operation not permitted. */ public static final int EPERM = 1;
    /** No such file or directory. */ public static final int ENOENT = 2;
    /** No such process. */ public static final int ESRCH = 3;
    /** Interrupted system call. */ public static final int EINTR = 4;
    /** Input/output error. */ public static final int EIO = 5;
    /** No such device or address. */ public static final int ENXIO = 6;
    /** Bad file descriptor. */ public static final int EBADF = 9;
    /** Resource temporarily unavailable (also EWOULDBLOCK). */ public static final int EAGAIN = 11;
    /** Cannot allocate memory. */ public static final int ENOMEM = 12;
    /** Permission denied. */ public static final int EACCES = 13;
    /** Bad address. */ public static final int EFAULT = 14;
    /** Device or resource busy. */ public static final int EBUSY = 16;
    /** File exists. */ public static final int EEXIST = 17;
    /** No such device. */ public static final int ENODEV = 19;
    /** Not a directory. */ public static final int ENOTDIR = 20;
    /** Is a directory. */ public static final int EISDIR = 21;
    /** Invalid argument. */ public static final int EINVAL = 22;
    /** Too many open files in system. */ public static final int ENFILE = 23;
    /** Too many open files. */ public static final int EMFILE = 24;
    /** Inappropriate ioctl for device. */ public static final int ENOTTY = 25;
    /** File too large. */ public static final int EFBIG = 27;
    /** No space left on device. */ public static final int ENOSPC = 28;
    /** Illegal seek. */ public static final int ESPIPE = 29;
    /** Broken pipe. */ public static final int EPIPE = 32;
    /** Numerical result out of range. */ public static final int ERANGE = 34;
    /** File name too long. */ public static final int ENAMETOOLONG = 36;
    /** Function not implemented. */ public static final int ENOSYS = 38;
    /** Socket operation on non-socket. */ public static final int ENOTSOCK = 88;
    /** Message too long. */ public static final int EMSGSIZE = 90;
    /** Protocol not supported. */ public static final int EPROTONOSUPPORT = 93;
    /** Operation not supported. */ public static final int EOPNOTSUPP = 95;
    /** Address family not supported by protocol. */ public static final int EAFNOSUPPORT = 97;
    /** Address already in use. */ public static final int EADDRINUSE = 98;
    /** File descriptor in bad state (a TAP whose interface went away). */ public static final int EBADFD = 77;
    /** Cannot assign requested address. */ public static final int EADDRNOTAVAIL = 99;
    /** Network is down. */ public static final int ENETDOWN = 100;
    /** Software caused connection abort. */ public static final int ECONNABORTED = 103;
    /** Connection reset by peer. */ public static final int ECONNRESET = 104;
    /** No buffer space available. */ public static final int ENOBUFS = 105;
    /** Transport endpoint is already connected. */ public static final int EISCONN = 106;
    /** Transport endpoint is not connected. */ public static final int ENOTCONN = 107;
    /** Connection timed out. */ public static final int ETIMEDOUT = 110;
    /** Connection refused. */ public static final int ECONNREFUSED = 111;
    /** Operation already in progress. */ public static final int EALREADY = 114;
    /** Operation now in progress. */ public static final int EINPROGRESS = 115;

    private static final String[] NAMES = new String[116];

    static {
        String[] pairs = {
            "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "ENXIO", "EBADF", "EAGAIN", "ENOMEM", "EACCES", "EFAULT",
            "EBUSY", "EEXIST", "ENODEV", "ENOTDIR", "EISDIR", "EINVAL", "ENFILE", "EMFILE", "ENOTTY", "EFBIG",
            "ENOSPC", "ESPIPE", "EPIPE", "ERANGE", "ENAMETOOLONG", "ENOSYS", "EBADFD", "ENOTSOCK", "EMSGSIZE",
            "EPROTONOSUPPORT", "EOPNOTSUPP", "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENETDOWN",
            "ECONNABORTED", "ECONNRESET", "ENOBUFS", "EISCONN", "ENOTCONN", "ETIMEDOUT", "ECONNREFUSED", "EALREADY", "EINPROGRESS"};
        for (String name : pairs) {
            try {
                NAMES[Errno.class.getField(name).getInt(null)] = name;
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    private Errno() {}

    /** The symbolic name of {@code errno} ({@code "EINVAL"}), or {@code "E<number>"} when the table lacks it. */
    public static String name(int errno) {
        String name = errno > 0 && errno < NAMES.length ? NAMES[errno] : null;
        return name != null ? name : "E" + errno;
    }

    /** The C library's description of {@code errno} ({@code strerror}). */
    public static String describe(int errno) {
        try {
            var text = LibC.strerror(errno);
            return text == null ? "errno " + errno : text.getString(0);
        } catch (RuntimeException | LinkageError e) {
            return "errno " + errno;
        }
    }

    /** errno as the calling thread's last native call through JNA left it. */
    static int last() {
        return Native.getLastError();
    }
}
