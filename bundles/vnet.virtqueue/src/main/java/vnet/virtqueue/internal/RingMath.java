package vnet.virtqueue.internal;

/** Index arithmetic shared by the device and driver sides. */
public final class RingMath {
    private RingMath() {
    }

    /**
     * The spec's {@code vring_need_event(event_idx, new_idx, old_idx)}: whether moving a 16-bit index from
     * {@code old} to {@code newIdx} passed {@code event}, i.e. {@code event} is in {@code [old, newIdx)} modulo 2^16.
     */
    public static boolean needEvent(int event, int newIdx, int old) {
        return ((newIdx - event - 1) & 0xffff) < ((newIdx - old) & 0xffff);
    }

    /**
     * The packed form: {@code k} descriptors (0 &lt; k &lt; size) were made available/used since the last check, the
     * position is now {@code pos} with wrap counter {@code wrap}; the other side asked for an event at
     * {@code offWrap} (offset in bits 0-14, wrap counter in bit 15).
     */
    public static boolean needEventPacked(int offWrap, int pos, boolean wrap, int k, int size) {
        int event = offWrap & 0x7fff;
        if (((offWrap >>> 15) != 0) != wrap) {
            event -= size;
        }
        int x = pos - event - 1;
        return x >= 0 && x < k;
    }
}
