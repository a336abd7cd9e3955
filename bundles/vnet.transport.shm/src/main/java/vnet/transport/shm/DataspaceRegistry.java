package vnet.transport.shm;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import vnet.linux.Fd;
import vnet.linux.Fstat;
import vnet.linux.LinuxException;
import vnet.linux.Mapping;
import vnet.linux.Mman;
import vnet.virtqueue.GuestMemory;
import vnet.virtqueue.MemoryRegion;

/**
 * The dataspaces one client registered with its port: at most {@code ds-max} of them (L4Re's
 * {@code create(0, "ds-max=N")}), and, when the server has trusted dataspaces (L4Re's
 * {@code --register-ds}), only files that are one of those. Used by one control thread at a time.
 */
public final class DataspaceRegistry implements AutoCloseable {
    /** Bounds of {@code ds-max}, as in the L4Re p2p server. */
    public static final int DS_MAX_MIN = 1;
    public static final int DS_MAX_MAX = 80;
    public static final int DS_MAX_DEFAULT = 2;

    /** Whether {@code dsMax} is a valid {@code ds-max}: 1..80. */
    public static boolean isValidDsMax(long dsMax) {
        return dsMax >= DS_MAX_MIN && dsMax <= DS_MAX_MAX;
    }

    private final int dsMax;
    private final Set<FileIdentity> trusted;
    private final List<Dataspace> dataspaces = new ArrayList<>();

    /**
     * @param dsMax   most dataspaces the client may register (1..80)
     * @param trusted identities of the trusted dataspaces; empty means any shared-memory file is accepted
     */
    public DataspaceRegistry(int dsMax, Set<FileIdentity> trusted) {
        if (!isValidDsMax(dsMax)) {
            throw new IllegalArgumentException("ds-max=" + dsMax + " is out of range " + DS_MAX_MIN + ".." + DS_MAX_MAX);
        }
        this.dsMax = dsMax;
        this.trusted = Set.copyOf(trusted);
    }

    public int dsMax() {
        return dsMax;
    }

    public int count() {
        return dataspaces.size();
    }

    /**
     * Registers a region: checks the limit, the trust list and the geometry, then maps the file. The
     * registry owns {@code file} from this call on, also when it refuses it (the file is closed).
     *
     * @throws DataspaceException with the reason a client would need to fix its request
     */
    public Dataspace register(Fd file, long guestPhysicalAddress, long size, long userAddress, long fileOffset)
            throws DataspaceException {
        try (Fd owned = file) {
            Dataspace same = duplicate(owned, guestPhysicalAddress, size, userAddress, fileOffset);
            if (same != null) {
                return same;
            }
            if (dataspaces.size() >= dsMax) {
                throw new DataspaceException("too many dataspaces: ds-max=" + dsMax + " already registered");
            }
            // The ranges must fit what MemoryRegion accepts (non-negative, end <= Long.MAX_VALUE): a gpa or uva
            // near 2^64 passed the old wrap check yet made GuestMemory throw IllegalArgumentException later.
            if (size <= 0 || fileOffset < 0 || fileOffset > Long.MAX_VALUE - size
                    || guestPhysicalAddress < 0 || guestPhysicalAddress > Long.MAX_VALUE - size
                    || userAddress < 0 || userAddress > Long.MAX_VALUE - size) {
                throw new DataspaceException(String.format(
                        "malformed region gpa=0x%x size=0x%x uva=0x%x offset=0x%x", guestPhysicalAddress, size, userAddress, fileOffset));
            }
            for (Dataspace d : dataspaces) {
                if (overlaps(d.guestPhysicalAddress(), d.size(), guestPhysicalAddress, size)) {
                    throw new DataspaceException(String.format(
                            "region gpa=0x%x size=0x%x overlaps %s", guestPhysicalAddress, size, d));
                }
                // Ring addresses are given as front-end virtual addresses: two regions there must not overlap either,
                // or one address would translate two ways.
                if (overlaps(d.userAddress(), d.size(), userAddress, size)) {
                    throw new DataspaceException(String.format(
                            "region uva=0x%x size=0x%x overlaps %s", userAddress, size, d));
                }
            }
            // Only a regular file as long as the region: a shared mapping past the end of the file maps, but the
            // first access there is a SIGBUS that kills the JVM (or an InternalError that kills the data path).
            Fstat stat = Fstat.of(owned);
            if (!stat.isRegularFile()) {
                throw new DataspaceException(String.format("dataspace file is not a regular file (mode 0%o)", stat.mode()));
            }
            if (stat.size() < fileOffset + size) {
                throw new DataspaceException(String.format("region offset=0x%x size=0x%x reaches past the end of its"
                        + " file (0x%x bytes)", fileOffset, size, stat.size()));
            }
            FileIdentity identity = FileIdentity.of(stat);
            if (!trusted.isEmpty() && !trusted.contains(identity)) {
                throw new DataspaceException("dataspace " + identity + " is not one of the trusted dataspaces");
            }
            // A front-end that shrinks the file later would make our next access fault. Where the file takes seals (a
            // memfd made with MFD_ALLOW_SEALING) forbid that outright; elsewhere the data path catches the fault and
            // breaks only this port (Dataspace#shrunk names the region).
            boolean sealed = owned.addSeals(Fd.F_SEAL_SHRINK);
            Mapping mapping = Mman.mapShared(owned, fileOffset, size);
            Dataspace ds = new Dataspace(owned.dup(), mapping, guestPhysicalAddress, userAddress, fileOffset, identity, sealed);
            dataspaces.add(ds);
            return ds;
        } catch (LinuxException e) {
            throw new DataspaceException("cannot map dataspace: " + e.getMessage());
        }
    }

    /**
     * A region registered again exactly as it is (same addresses, size, offset and file): QEMU's per-queue-pair
     * vhost devices of a multiqueue NIC each send ADD_MEM_REG (and REM_MEM_REG) for the same memory. It counts as a
     * second reference to the registered dataspace, dropped by {@link #releaseDuplicate}; the new descriptor is
     * closed. Null if the region is not such a repeat.
     */
    private Dataspace duplicate(Fd file, long gpa, long size, long uva, long offset) throws LinuxException {
        for (Dataspace d : dataspaces) {
            if (d.guestPhysicalAddress() == gpa && d.size() == size && d.userAddress() == uva
                    && d.fileOffset() == offset && d.identity().equals(FileIdentity.of(Fstat.of(file)))) {
                d.extraReferences++;
                return d;
            }
        }
        return null;
    }

    /**
     * Drops one repeated registration (see {@link #duplicate}) of the region at {@code guestPhysicalAddress} of
     * {@code size} bytes; false if it has none, so the region itself is to be removed.
     */
    public boolean releaseDuplicate(long guestPhysicalAddress, long size) {
        for (Dataspace d : dataspaces) {
            if (d.guestPhysicalAddress() == guestPhysicalAddress && d.size() == size && d.extraReferences > 0) {
                d.extraReferences--;
                return true;
            }
        }
        return false;
    }

    /** Removes and returns the dataspace at {@code guestPhysicalAddress} of {@code size} bytes, or null. */
    public Dataspace remove(long guestPhysicalAddress, long size) {
        for (int i = 0; i < dataspaces.size(); i++) {
            Dataspace d = dataspaces.get(i);
            if (d.guestPhysicalAddress() == guestPhysicalAddress && d.size() == size) {
                return dataspaces.remove(i);
            }
        }
        return null;
    }

    /** The registered dataspaces now. */
    public List<Dataspace> list() {
        return List.copyOf(dataspaces);
    }

    /** Removes every dataspace and returns them, for the caller to close once nothing uses them. */
    public List<Dataspace> removeAll() {
        List<Dataspace> all = new ArrayList<>(dataspaces);
        dataspaces.clear();
        return all;
    }

    /** The registered dataspaces as guest memory. */
    public GuestMemory guestMemory() {
        List<MemoryRegion> regions = new ArrayList<>(dataspaces.size());
        for (Dataspace d : dataspaces) {
            regions.add(d.region());
        }
        return GuestMemory.of(regions);
    }

    @Override
    public void close() {
        for (Dataspace d : removeAll()) {
            d.close();
        }
    }

    private static boolean overlaps(long a, long aSize, long b, long bSize) {
        return Long.compareUnsigned(a, b + bSize - 1) <= 0 && Long.compareUnsigned(b, a + aSize - 1) <= 0;
    }
}
