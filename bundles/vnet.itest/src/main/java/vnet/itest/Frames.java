package vnet.itest;

/** Ethernet test frames: MACs as longs, EtherType 0x88b5, a mark after it. */
final class Frames {
    static final long BROADCAST = 0xFFFF_FFFF_FFFFL;

    private Frames() {
    }

    static byte[] frame(long dst, long src, int mark) {
        byte[] f = new byte[64];
        for (int i = 0; i < 6; i++) {
            f[i] = (byte) (dst >>> (40 - 8 * i));
            f[6 + i] = (byte) (src >>> (40 - 8 * i));
        }
        f[12] = (byte) 0x88;
        f[13] = (byte) 0xb5;
        f[14] = (byte) (mark >>> 24);
        f[15] = (byte) (mark >>> 16);
        f[16] = (byte) (mark >>> 8);
        f[17] = (byte) mark;
        return f;
    }

    static int mark(byte[] f) {
        return (f[14] & 0xff) << 24 | (f[15] & 0xff) << 16 | (f[16] & 0xff) << 8 | (f[17] & 0xff);
    }
}
