package vnet.linux;

/** Anonymous shared memory files ({@code memfd_create(2)}), the usual backing of guest memory. */
public final class Memfd {
    /** Close on exec (always set by {@link #create(String, long)}). */
    public static final int MFD_CLOEXEC = 0x1;
    /** Allow {@code F_ADD_SEALS}. */
    public static final int MFD_ALLOW_SEALING = 0x2;

    private Memfd() {}

    /** A new memfd named {@code name} (for /proc only), {@code size} bytes long, with {@link #MFD_CLOEXEC}. */
    public static Fd create(String name, long size) throws LinuxException {
        return create(name, size, MFD_CLOEXEC);
    }

    /** A new memfd with {@code flags} ({@code MFD_*}), then {@code ftruncate}d to {@code size} bytes. */
    public static Fd create(String name, long size, int flags) throws LinuxException {
        if (size < 0) {
            throw new IllegalArgumentException("negative size " + size);
        }
        int fd = LibC.memfd_create(Strings.cString(name), flags);
        if (fd < 0) {
            throw LinuxException.last("memfd_create", name);
        }
        Fd owned = Fd.adopt(fd);
        if (LibC.ftruncate(fd, size) < 0) {
            LinuxException failure = LinuxException.last("ftruncate", "size " + size);
            owned.close();
            throw failure;
        }
        return owned;
    }
}
