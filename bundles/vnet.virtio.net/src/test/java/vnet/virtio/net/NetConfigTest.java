package vnet.virtio.net;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class NetConfigTest {

    private static NetConfig sample() {
        return new NetConfig().mac("52:54:00:12:34:56").status(NetConfig.S_LINK_UP).maxVirtqueuePairs(4).mtu(9000)
                .speed(10000).duplex(NetConfig.DUPLEX_FULL).rssMaxKeySize(40).rssMaxIndirectionTableLength(128)
                .supportedHashTypes(NetConfig.HASH_TYPE_IPV4 | NetConfig.HASH_TYPE_TCPV4 | NetConfig.HASH_TYPE_UDP_EX)
                .supportedTunnelTypes(0x0A0B0C0D);
    }

    /** The layout of §5.1.4, written out by hand. */
    private static final byte[] BYTES = {
        0x52, 0x54, 0x00, 0x12, 0x34, 0x56, // mac @0
        0x01, 0x00, // status @6
        0x04, 0x00, // max_virtqueue_pairs @8
        0x28, 0x23, // mtu 9000 @10
        0x10, 0x27, 0x00, 0x00, // speed 10000 @12
        0x01, // duplex @16
        0x28, // rss_max_key_size 40 @17
        (byte) 0x80, 0x00, // rss_max_indirection_table_length 128 @18
        0x03, 0x01, 0x00, 0x00, // supported_hash_types @20
        0x0D, 0x0C, 0x0B, 0x0A, // supported_tunnel_types @24
    };

    @Test
    void encodesTheSpecLayout() {
        byte[] out = new byte[NetConfig.SIZE];
        sample().encode(out, 0);
        assertArrayEquals(BYTES, out);
        assertEquals(28, NetConfig.SIZE);
        assertEquals(6, NetConfig.OFFSET_STATUS);
        assertEquals(8, NetConfig.OFFSET_MAX_VIRTQUEUE_PAIRS);
        assertEquals(10, NetConfig.OFFSET_MTU);
        assertEquals(12, NetConfig.OFFSET_SPEED);
        assertEquals(16, NetConfig.OFFSET_DUPLEX);
        assertEquals(17, NetConfig.OFFSET_RSS_MAX_KEY_SIZE);
        assertEquals(18, NetConfig.OFFSET_RSS_MAX_INDIRECTION_TABLE_LENGTH);
        assertEquals(20, NetConfig.OFFSET_SUPPORTED_HASH_TYPES);
    }

    @Test
    void partialReadsAsGetConfigWould() {
        byte[] out = new byte[4];
        sample().read(NetConfig.OFFSET_MTU, out, 0, 2);
        assertArrayEquals(new byte[] {0x28, 0x23, 0, 0}, out);
        byte[] tail = new byte[8];
        Arrays.fill(tail, (byte) 0x77);
        sample().read(24, tail, 0, 8);
        assertArrayEquals(new byte[] {0x0D, 0x0C, 0x0B, 0x0A, 0, 0, 0, 0}, tail, "bytes past the layout read 0");
    }

    @Test
    void decodesWhatItEncodes() {
        NetConfig back = new NetConfig().decode(BYTES, 0, BYTES.length);
        assertEquals(sample(), back);
        assertEquals("52:54:00:12:34:56", back.macString());
        assertEquals(9000, back.mtu());
        // A short space (MAC and status only) keeps the other fields' defaults.
        NetConfig shortOne = new NetConfig().decode(BYTES, 0, 8);
        assertEquals(NetConfig.S_LINK_UP, shortOne.status());
        assertEquals(1, shortOne.maxVirtqueuePairs());
        assertEquals(0, shortOne.mtu());
    }

    @Test
    void sizeFollowsFeatures() {
        assertEquals(6, NetConfig.configSize(Features.MAC));
        assertEquals(8, NetConfig.configSize(Features.MAC | Features.STATUS));
        assertEquals(10, NetConfig.configSize(Features.STATUS | Features.MQ | Features.CTRL_VQ));
        assertEquals(12, NetConfig.configSize(Features.MTU));
        assertEquals(17, NetConfig.configSize(Features.SPEED_DUPLEX | Features.MTU));
        assertEquals(24, NetConfig.configSize(Features.RSS));
        assertEquals(28, NetConfig.configSize(Features.HASH_TUNNEL));
    }

    @Test
    void rejectsBadValues() {
        NetConfig c = new NetConfig();
        assertThrows(IllegalArgumentException.class, () -> c.mac("52:54:00:12:34"));
        assertThrows(IllegalArgumentException.class, () -> c.mac("52:54:00:12:34:zz"));
        assertThrows(IllegalArgumentException.class, () -> c.mac("52:54:00:12:34:567"));
        assertThrows(IllegalArgumentException.class, () -> c.mac(new byte[5]));
        assertThrows(IllegalArgumentException.class, () -> c.mtu(67));
        assertThrows(IllegalArgumentException.class, () -> c.maxVirtqueuePairs(0));
        assertThrows(IllegalArgumentException.class, () -> c.maxVirtqueuePairs(0x8001));
        assertThrows(IllegalArgumentException.class, () -> c.decode(new byte[5], 0, 5));
    }
}
