package vnet.linux;

import java.io.IOException;

/**
 * A Linux call failed: carries the call's name and errno, by number and by name. Its message reads
 * {@code mmap: EINVAL (Invalid argument)}.
 */
public class LinuxException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    /** Failure of {@code call} with {@code errno}. */
    public LinuxException(String call, int errno) {
        super(call + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + ")");
        this.call = call;
        this.errno = errno;
    }

    /** Failure of {@code call} with {@code errno}, with more context appended to the message. */
    public LinuxException(String call, int errno, String detail) {
        super(call + ": " + Errno.name(errno) + " (" + Errno.describe(errno) + "): " + detail);
        this.call = call;
        this.errno = errno;
    }

    /** The failure of {@code call} that the calling thread's last native call left in errno. */
    static LinuxException last(String call) {
        return new LinuxException(call, Errno.last());
    }

    /** Like {@link #last(String)}, with context (a path, a size) appended to the message. */
    static LinuxException last(String call, String detail) {
        return new LinuxException(call, Errno.last(), detail);
    }

    /** The failed call's name ({@code "mmap"}). */
    public String call() {
        return call;
    }

    /** errno's number. */
    public int errno() {
        return errno;
    }

    /** errno's symbolic name ({@code "EBADF"}); {@code "E<number>"} for numbers outside {@link Errno}'s table. */
    public String errnoName() {
        return Errno.name(errno);
    }
}
