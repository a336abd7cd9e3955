package vnet.virtqueue;

/**
 * The 16-byte virtqueue descriptor: its layout and flags, for split (§2.7.5, {@code struct virtq_desc}) and packed
 * (§2.8.13, {@code struct pvirtq_desc}) rings and for indirect tables. All fields are little-endian.
 *
 * <pre>
 * split:  le64 addr @0, le32 len @8, le16 flags @12, le16 next @14
 * packed: le64 addr @0, le32 len @8, le16 id @12,    le16 flags @14
 * </pre>
 */
public final class Descriptor {
    /** Size of one descriptor in bytes (split and packed alike). */
    public static final int SIZE = 16;
    /** Alignment of a descriptor table or ring. */
    public static final int ALIGN = 16;

    /** Offset of {@code addr} (le64). */
    public static final int ADDR = 0;
    /** Offset of {@code len} (le32). */
    public static final int LEN = 8;
    /** Split: offset of {@code flags} (le16). */
    public static final int SPLIT_FLAGS = 12;
    /** Split: offset of {@code next} (le16). */
    public static final int SPLIT_NEXT = 14;
    /** Packed: offset of the buffer {@code id} (le16). */
    public static final int PACKED_ID = 12;
    /** Packed: offset of {@code flags} (le16). */
    public static final int PACKED_FLAGS = 14;

    /** VIRTQ_DESC_F_NEXT: the buffer continues in the next descriptor. */
    public static final int F_NEXT = 1;
    /** VIRTQ_DESC_F_WRITE: the buffer is device write-only (otherwise device read-only). */
    public static final int F_WRITE = 2;
    /** VIRTQ_DESC_F_INDIRECT: the buffer holds a table of descriptors. */
    public static final int F_INDIRECT = 4;
    /** Packed VIRTQ_DESC_F_AVAIL (bit 7). */
    public static final int F_AVAIL = 1 << 7;
    /** Packed VIRTQ_DESC_F_USED (bit 15). */
    public static final int F_USED = 1 << 15;

    private Descriptor() {
    }

    /** Bytes of a descriptor table or packed ring of {@code queueSize} entries. */
    public static long tableSize(int queueSize) {
        return (long) SIZE * queueSize;
    }
}
