package vnet.switching;

import java.util.Arrays;

/** Ethernet test frames: MAC addresses as longs, an optional 802.1Q tag, EtherType 0x88b5 and a marked payload. */
final class Frames {
    static final int TYPE = 0x88b5;

    private Frames() {
    }

    /** An untagged frame of {@code length} bytes carrying {@code mark} after the EtherType. */
    static byte[] frame(long dst, long src, int mark, int length) {
        return tagged(dst, src, 0, mark, length);
    }

    /** A frame tagged with {@code vlan} (0: untagged) of {@code length} bytes carrying {@code mark}. */
    static byte[] tagged(long dst, long src, int vlan, int mark, int length) {
        byte[] f = new byte[length];
        for (int i = 0; i < length; i++) {
            f[i] = (byte) (i * 7 + mark);
        }
        putMac(f, 0, dst);
        putMac(f, 6, src);
        int at = 12;
        if (vlan > 0) {
            f[12] = (byte) 0x81;
            f[13] = 0x00;
            f[14] = (byte) (vlan >>> 8);
            f[15] = (byte) vlan;
            at = 16;
        }
        f[at] = (byte) (TYPE >>> 8);
        f[at + 1] = (byte) TYPE;
        f[at + 2] = (byte) (mark >>> 24);
        f[at + 3] = (byte) (mark >>> 16);
        f[at + 4] = (byte) (mark >>> 8);
        f[at + 5] = (byte) mark;
        return f;
    }

    static void putMac(byte[] f, int at, long mac) {
        for (int i = 0; i < 6; i++) {
            f[at + i] = (byte) (mac >>> (40 - 8 * i));
        }
    }

    static long mac(byte[] f, int at) {
        long m = 0;
        for (int i = 0; i < 6; i++) {
            m = m << 8 | (f[at + i] & 0xff);
        }
        return m;
    }

    /** The VLAN id of a tagged frame, or 0. */
    static int vlan(byte[] f) {
        return (f[12] & 0xff) == 0x81 && f[13] == 0 ? ((f[14] & 0x0f) << 8 | (f[15] & 0xff)) : 0;
    }

    /** The mark of a frame built here (tagged or not). */
    static int mark(byte[] f) {
        int at = vlan(f) > 0 ? 18 : 14;
        return (f[at] & 0xff) << 24 | (f[at + 1] & 0xff) << 16 | (f[at + 2] & 0xff) << 8 | (f[at + 3] & 0xff);
    }

    /** {@code f} with its tag removed. */
    static byte[] untag(byte[] f) {
        byte[] u = new byte[f.length - 4];
        System.arraycopy(f, 0, u, 0, 12);
        System.arraycopy(f, 16, u, 12, f.length - 16);
        return u;
    }

    /** {@code f} with a tag of {@code vlan} inserted. */
    static byte[] tag(byte[] f, int vlan) {
        byte[] t = new byte[f.length + 4];
        System.arraycopy(f, 0, t, 0, 12);
        t[12] = (byte) 0x81;
        t[14] = (byte) (vlan >>> 8);
        t[15] = (byte) vlan;
        System.arraycopy(f, 12, t, 16, f.length - 12);
        return t;
    }

    static String hex(byte[] f) {
        return Arrays.toString(f);
    }
}
