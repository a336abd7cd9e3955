package vnet.linux;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;

/**
 * glibc, bound by JNA direct mapping. LP64 only: pointers, {@code size_t}, {@code ssize_t} and {@code off_t} are
 * Java {@code long}s; errno is read afterwards with {@link Native#getLastError()} (JNA saves it after every call).
 * Variadic functions (fcntl, ioctl, open, syscall) are bound with fixed integer arguments, which the x86_64 and
 * aarch64 Linux ABIs pass exactly as the variadic ones.
 */
final class LibC {
    static {
        // Arch first: it refuses unsupported platforms with a clear message.
        if (Arch.STAT_SIZE == 0) {
            throw new AssertionError();
        }
        Native.register(LibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private LibC() {}

    static native int close(int fd);
    static native long read(int fd, long buf, long count);
    static native long write(int fd, long buf, long count);
    static native long read(int fd, ByteBuffer buf, long count);
    static native long write(int fd, ByteBuffer buf, long count);
    static native int open(byte[] path, int flags, int mode);
    static native int unlink(byte[] path);
    static native int fcntl(int fd, int cmd, long arg);
    static native int ftruncate(int fd, long length);

    static native int memfd_create(byte[] name, int flags);
    static native long mmap(long addr, long length, int prot, int flags, int fd, long offset);
    static native int munmap(long addr, long length);
    static native long sysconf(int name);

    static native int eventfd(int initval, int flags);

    static native int epoll_create1(int flags);
    static native int epoll_ctl(int epfd, int op, int fd, long event);
    static native int epoll_wait(int epfd, long events, int maxevents, int timeout);

    static native int socket(int domain, int type, int protocol);
    static native int socketpair(int domain, int type, int protocol, int[] sv);
    static native int bind(int fd, byte[] addr, int addrlen);
    static native int listen(int fd, int backlog);
    static native int accept4(int fd, long addr, long addrlen, int flags);
    static native int connect(int fd, byte[] addr, int addrlen);
    static native long sendmsg(int fd, long msg, int flags);
    static native long recvmsg(int fd, long msg, int flags);
    static native int shutdown(int fd, int how);
    static native int setsockopt(int fd, int level, int name, long[] value, int len);
    static native int setsockopt(int fd, int level, int name, long value, int len);
    static native int sendmmsg(int fd, long msgvec, int vlen, int flags);
    static native int recvmmsg(int fd, long msgvec, int vlen, int flags, long timeout);

    static native int ioctl(int fd, long request, long arg);
    static native int ioctl(int fd, long request, byte[] arg);
    static native int ioctl(int fd, long request, int[] arg);
    static native int ioctl(int fd, long request, ByteBuffer arg);

    static native long syscall(long number, long a, long b, long c);
    static native int setpriority(int which, int who, int prio);
    static native int sched_setaffinity(int pid, long cpusetsize, long[] mask);
    static native int sched_getaffinity(int pid, long cpusetsize, long[] mask);

    static native Pointer strerror(int errnum);
}
