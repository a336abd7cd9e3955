package vnet.transport.shm;

import vnet.linux.Fd;
import vnet.linux.Fstat;
import vnet.linux.LinuxException;
import vnet.linux.Mapping;
import vnet.virtqueue.MemoryRegion;

/**
 * A shared-memory object a client registered for virtio DMA (an L4Re "dataspace"; a vhost-user memory
 * region): the file, where it sits in the guest's physical and the front-end's virtual address space, and
 * vnet's mapping of it. Closing unmaps and closes the file.
 */
public final class Dataspace implements AutoCloseable {
    private final Fd file;
    private final Mapping mapping;
    private final long guestPhysicalAddress;
    private final long userAddress;
    private final long fileOffset;
    private final FileIdentity identity;
    private final boolean sealed;
    /** Registrations of this same region beyond the first (see DataspaceRegistry#register); control plane only. */
    int extraReferences;

    Dataspace(Fd file, Mapping mapping, long guestPhysicalAddress, long userAddress, long fileOffset, FileIdentity identity,
            boolean sealed) {
        this.sealed = sealed;
        this.file = file;
        this.mapping = mapping;
        this.guestPhysicalAddress = guestPhysicalAddress;
        this.userAddress = userAddress;
        this.fileOffset = fileOffset;
        this.identity = identity;
    }

    public long guestPhysicalAddress() {
        return guestPhysicalAddress;
    }

    public long size() {
        return mapping.length();
    }

    /** The front-end's virtual address of the region (vhost-user ring addresses are given in it). */
    public long userAddress() {
        return userAddress;
    }

    public long fileOffset() {
        return fileOffset;
    }

    /** Device and inode of the backing file, as compared against trusted dataspaces. */
    public FileIdentity identity() {
        return identity;
    }

    /** Whether the file carries F_SEAL_SHRINK, so it cannot shrink under the mapping. */
    public boolean isSealed() {
        return sealed;
    }

    /**
     * Null while the file still covers the whole mapping; otherwise why not. A front-end that truncates its memory
     * file after registering it turns every access to the cut-off part into a fault (SIGBUS, which the JVM reports
     * as an InternalError on the accessing thread): this says which region it was.
     */
    public String shrunk() {
        if (sealed) {
            return null;
        }
        try {
            long fileSize = Fstat.of(file).size();
            if (fileSize < fileOffset + size()) {
                return String.format("memory region gpa=0x%x size=0x%x: its file was cut to 0x%x bytes, the region needs"
                        + " 0x%x", guestPhysicalAddress, size(), fileSize, fileOffset + size());
            }
            return null;
        } catch (LinuxException | IllegalStateException e) {
            return String.format("memory region gpa=0x%x: fstat failed: %s", guestPhysicalAddress, e.getMessage());
        }
    }

    /** The region as the virtqueues see it; it keeps this dataspace reachable while in use. */
    public MemoryRegion region() {
        return MemoryRegion.ofAddress(guestPhysicalAddress, mapping.length(), mapping.address(), userAddress).withKeepAlive(this);
    }

    @Override
    public void close() {
        mapping.close();
        file.close();
    }

    @Override
    public String toString() {
        return String.format("dataspace[gpa=0x%x size=0x%x uva=0x%x offset=0x%x %s]",
                guestPhysicalAddress, size(), userAddress, fileOffset, identity);
    }
}
