package vnet.virtqueue;

import static vnet.virtqueue.internal.Mem.getI32;
import static vnet.virtqueue.internal.Mem.putU16;
import static vnet.virtqueue.internal.Mem.putU16Release;

import vnet.virtqueue.internal.Mem;
import vnet.virtqueue.internal.RingMath;

/**
 * Steps the device and driver sides of a packed virtqueue (§2.8) take alike, each on its own descriptors and event
 * suppression structures. Package-private.
 */
final class PackedRing {
    private PackedRing() {
    }

    /**
     * Stores the deferred flags of {@code count} (at least 1) descriptors of the ring at {@code descHva}: after a
     * store fence, {@code flags[i]} at ring position {@code positions[i]}, the first one last with release, so the
     * other side sees the batch only once it is complete.
     */
    static void publishFlags(long descHva, int[] positions, int[] flags, int count) {
        Mem.storeFence();
        for (int i = count - 1; i > 0; i--) {
            putU16(descHva + (long) Descriptor.SIZE * positions[i] + Descriptor.PACKED_FLAGS, flags[i]);
        }
        putU16Release(descHva + (long) Descriptor.SIZE * positions[0] + Descriptor.PACKED_FLAGS, flags[0]);
    }

    /**
     * Whether the other side's event suppression structure at {@code eventHva} asks for a notification for the
     * {@code k} (at least 1) descriptors made available or used since the last check, up to ring position
     * {@code pos} with wrap counter {@code wrap}. The caller issues the full fence before.
     */
    static boolean wantsEvent(long eventHva, boolean eventIdx, int k, int pos, boolean wrap, int size) {
        int snapshot = getI32(eventHva);
        int flags = (snapshot >>> 16) & 0x3;
        if (flags != EventSuppression.FLAGS_DESC || !eventIdx) {
            return flags != EventSuppression.FLAGS_DISABLE;
        }
        if (k >= size) {
            return true;
        }
        return RingMath.needEventPacked(snapshot & 0xffff, pos, wrap, k, size);
    }

    /**
     * Asks for notifications in this side's event suppression structure at {@code eventHva}: with EVENT_IDX, DESC
     * at {@code offWrap} (stored first); otherwise ENABLE.
     */
    static void enableEvents(long eventHva, boolean eventIdx, int offWrap) {
        if (eventIdx) {
            putU16(eventHva + EventSuppression.OFF_WRAP, offWrap);
            Mem.storeFence();
            putU16(eventHva + EventSuppression.FLAGS, EventSuppression.FLAGS_DESC);
        } else {
            putU16(eventHva + EventSuppression.FLAGS, EventSuppression.FLAGS_ENABLE);
        }
    }
}
