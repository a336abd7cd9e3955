package vnet.virtio.net.internal;

/** Little-endian reads and writes of byte arrays, as every virtio 1.x structure is laid out. Not API. */
public final class LittleEndian {

    private LittleEndian() {
    }

    /**
     * Reads an unsigned le16.
     *
     * @param b bytes
     * @param i index of the low byte
     * @return 0 to 0xFFFF
     */
    public static int getU16(byte[] b, int i) {
        return (b[i] & 0xFF) | (b[i + 1] & 0xFF) << 8;
    }

    /**
     * Reads a le32.
     *
     * @param b bytes
     * @param i index of the lowest byte
     * @return the value
     */
    public static int getI32(byte[] b, int i) {
        return getU16(b, i) | getU16(b, i + 2) << 16;
    }

    /**
     * Writes the low 16 bits of {@code v} as le16.
     *
     * @param b bytes
     * @param i index of the low byte
     * @param v the value
     */
    public static void putU16(byte[] b, int i, int v) {
        b[i] = (byte) v;
        b[i + 1] = (byte) (v >>> 8);
    }

    /**
     * Writes {@code v} as le32.
     *
     * @param b bytes
     * @param i index of the lowest byte
     * @param v the value
     */
    public static void putI32(byte[] b, int i, int v) {
        putU16(b, i, v);
        putU16(b, i + 2, v >>> 16);
    }
}
