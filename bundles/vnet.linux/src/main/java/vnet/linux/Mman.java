package vnet.linux;

/** Memory mappings ({@code mmap(2)}) of files such as memfds. */
public final class Mman {
    /** Pages may be read. */ public static final int PROT_READ = 0x1;
    /** Pages may be written. */ public static final int PROT_WRITE = 0x2;
    /** Share the mapping with every other mapping of the file. */ public static final int MAP_SHARED = 0x01;
    /** Copy-on-write private mapping. */ public static final int MAP_PRIVATE = 0x02;
    /** Populate (prefault) the page tables. */ public static final int MAP_POPULATE = 0x8000;
    /** Do not reserve swap space. */ public static final int MAP_NORESERVE = 0x4000;

    private static final long MAP_FAILED = -1L;
    private static final int SC_PAGESIZE = 30;
    private static final long PAGE_SIZE = LibC.sysconf(SC_PAGESIZE);

    private Mman() {}

    /** The system page size (sysconf(_SC_PAGESIZE)). */
    public static long pageSize() {
        return PAGE_SIZE;
    }

    /**
     * Maps {@code length} bytes of {@code fd} from {@code offset}: the returned mapping's {@link Mapping#address()}
     * is the byte at {@code offset}. The offset need not be page aligned (vhost-user's {@code mmap_offset} is not):
     * the mapping starts at the page below and the address is moved up by the rest.
     *
     * @param prot  {@code PROT_*} bits
     * @param flags {@code MAP_*} bits, usually {@link #MAP_SHARED}
     */
    public static Mapping mmap(Fd fd, long offset, long length, int prot, int flags) throws LinuxException {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("offset " + offset + ", length " + length);
        }
        long slack = offset % PAGE_SIZE;
        long mapLength = Math.addExact(length, slack);
        long base = LibC.mmap(0, mapLength, prot, flags, fd.fd(), offset - slack);
        if (base == MAP_FAILED) {
            throw LinuxException.last("mmap", "offset " + offset + ", length " + length);
        }
        return new Mapping(base, mapLength, base + slack, length);
    }

    /** {@link #mmap} with {@code PROT_READ | PROT_WRITE} and {@code MAP_SHARED}: the way guest memory is mapped. */
    public static Mapping mapShared(Fd fd, long offset, long length) throws LinuxException {
        return mmap(fd, offset, length, PROT_READ | PROT_WRITE, MAP_SHARED);
    }

    static void munmap(long base, long length) throws LinuxException {
        if (LibC.munmap(base, length) < 0) {
            throw LinuxException.last("munmap");
        }
    }
}
