package vnet.linux;

/** The few numbers that differ between the 64-bit Linux architectures vnet supports. */
final class Arch {
    /** System call numbers. */
    static final long SYS_FSTAT, SYS_GETTID, SYS_GETPRIORITY;
    /** {@code struct epoll_event}: packed (12 bytes) on x86_64, 16 bytes elsewhere. */
    static final int EPOLL_EVENT_SIZE, EPOLL_DATA_OFFSET;
    /** {@code struct stat}: its size and the offset of {@code st_mode} (st_dev at 0, st_ino at 8, st_size at 48 on both). */
    static final int STAT_SIZE, STAT_MODE_OFFSET;

    static {
        String arch = System.getProperty("os.arch");
        if (!"Linux".equals(System.getProperty("os.name"))) {
            throw new UnsupportedOperationException("vnet.linux needs Linux, not " + System.getProperty("os.name"));
        }
        switch (arch) {
            case "amd64":
            case "x86_64":
                SYS_FSTAT = 5;
                SYS_GETTID = 186;
                SYS_GETPRIORITY = 140;
                EPOLL_EVENT_SIZE = 12;
                EPOLL_DATA_OFFSET = 4;
                STAT_SIZE = 144;
                STAT_MODE_OFFSET = 24;
                break;
            case "aarch64":
                SYS_FSTAT = 80;
                SYS_GETTID = 178;
                SYS_GETPRIORITY = 141;
                EPOLL_EVENT_SIZE = 16;
                EPOLL_DATA_OFFSET = 8;
                STAT_SIZE = 128;
                STAT_MODE_OFFSET = 16;
                break;
            default:
                throw new UnsupportedOperationException("vnet.linux supports x86_64 and aarch64, not " + arch);
        }
    }

    private Arch() {}
}
