package vnet.transport.shm;

import vnet.linux.Fd;
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

    Dataspace(Fd file, Mapping mapping, long guestPhysicalAddress, long userAddress, long fileOffset, FileIdentity identity) {
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
