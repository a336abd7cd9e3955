package vnet.virtio.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class FeaturesTest {

    @Test
    void bitNumbersAreTheSpecs() {
        long[] masks = {Features.CSUM, Features.GUEST_CSUM, Features.CTRL_GUEST_OFFLOADS, Features.MTU, Features.MAC,
            Features.GUEST_TSO4, Features.GUEST_TSO6, Features.GUEST_ECN, Features.GUEST_UFO, Features.HOST_TSO4,
            Features.HOST_TSO6, Features.HOST_ECN, Features.HOST_UFO, Features.MRG_RXBUF, Features.STATUS,
            Features.CTRL_VQ, Features.CTRL_RX, Features.CTRL_VLAN, Features.GUEST_ANNOUNCE, Features.MQ,
            Features.CTRL_MAC_ADDR, Features.HASH_REPORT, Features.RSS, Features.RING_INDIRECT_DESC,
            Features.RING_EVENT_IDX, Features.VHOST_USER_F_PROTOCOL_FEATURES, Features.VERSION_1,
            Features.ACCESS_PLATFORM, Features.RING_PACKED, Features.IN_ORDER, Features.NOTIFICATION_DATA,
            Features.SPEED_DUPLEX};
        int[] bits = {0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 22, 23, 57, 60, 28, 29, 30,
            32, 33, 34, 35, 38, 63};
        for (int i = 0; i < bits.length; i++) {
            assertEquals(1L << bits[i], masks[i], "bit " + bits[i]);
            assertEquals(masks[i], Features.bit(bits[i]));
        }
        assertThrows(IllegalArgumentException.class, () -> Features.bit(64));
    }

    @Test
    void negotiationIntersectsOfferAndRequest() {
        long offered = Features.VERSION_1 | Features.MAC | Features.MRG_RXBUF | Features.CSUM | Features.STATUS;
        long requested = Features.VERSION_1 | Features.MRG_RXBUF | Features.CSUM | Features.RING_PACKED;
        assertEquals(Features.VERSION_1 | Features.MRG_RXBUF | Features.CSUM,
                Features.negotiate(offered, requested));
    }

    @Test
    void negotiationDropsFeaturesWhoseRequirementsAreMissing() {
        // The device offers HOST_TSO4 but not CSUM: TSO4 cannot be accepted, and nor can HOST_ECN which needed it,
        // nor RSC_EXT which needs a HOST_TSO.
        long offered = Features.VERSION_1 | Features.HOST_TSO4 | Features.HOST_ECN | Features.RSC_EXT
                | Features.GUEST_CSUM | Features.GUEST_TSO6 | Features.GUEST_ECN;
        long accepted = Features.negotiate(offered, ~0L);
        assertEquals(Features.VERSION_1 | Features.GUEST_CSUM | Features.GUEST_TSO6 | Features.GUEST_ECN, accepted);
        assertTrue(Features.isValid(accepted));
        // Without CTRL_VQ none of the control-queue features survive.
        long ctrl = Features.CTRL_RX | Features.CTRL_VLAN | Features.GUEST_ANNOUNCE | Features.MQ
                | Features.CTRL_MAC_ADDR | Features.RSS | Features.NOTF_COAL | Features.CTRL_RX_EXTRA;
        assertEquals(Features.VERSION_1, Features.negotiate(Features.VERSION_1 | ctrl, ~0L));
        assertEquals(Features.VERSION_1 | Features.CTRL_VQ | ctrl,
                Features.negotiate(Features.VERSION_1 | Features.CTRL_VQ | ctrl, ~0L));
    }

    @Test
    void validationNamesEveryRuleBroken() {
        assertTrue(Features.isValid(0));
        assertTrue(Features.isValid(Features.CSUM | Features.HOST_TSO4 | Features.HOST_TSO6 | Features.HOST_ECN));
        assertEquals(Features.GUEST_TSO4, Features.violations(Features.GUEST_TSO4));
        assertEquals(Features.HOST_UFO | Features.MQ, Features.violations(Features.HOST_UFO | Features.MQ));
        assertEquals(Features.GUEST_ECN, Features.violations(Features.GUEST_CSUM | Features.GUEST_ECN));
        assertFalse(Features.isValid(Features.GUEST_USO4));
        assertFalse(Features.isValid(Features.HOST_USO));
        assertFalse(Features.isValid(Features.CTRL_VQ | Features.HASH_TUNNEL));
        assertTrue(Features.isValid(Features.CTRL_VQ | Features.HASH_REPORT | Features.HASH_TUNNEL));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Features.validate(Features.HOST_TSO4 | Features.HOST_ECN | Features.CTRL_RX));
        assertTrue(e.getMessage().contains("HOST_TSO4 requires CSUM"), e.getMessage());
        assertTrue(e.getMessage().contains("CTRL_RX requires CTRL_VQ"), e.getMessage());
        assertFalse(e.getMessage().contains("HOST_ECN"), "HOST_ECN has its HOST_TSO4: " + e.getMessage());
        assertEquals("GUEST_ECN requires GUEST_TSO4 or GUEST_TSO6", Features.describeViolations(Features.GUEST_ECN));
    }

    @Test
    void toStringNamesBits() {
        assertEquals("0", Features.toString(0));
        assertEquals("CSUM|MAC|MRG_RXBUF|VERSION_1|RING_PACKED",
                Features.toString(Features.CSUM | Features.MAC | Features.MRG_RXBUF | Features.VERSION_1
                        | Features.RING_PACKED));
        assertEquals("VHOST_USER_F_PROTOCOL_FEATURES|bit(45)|SPEED_DUPLEX",
                Features.toString(Features.VHOST_USER_F_PROTOCOL_FEATURES | 1L << 45 | Features.SPEED_DUPLEX));
        assertEquals("bit(4)", Features.name(4));
    }
}
