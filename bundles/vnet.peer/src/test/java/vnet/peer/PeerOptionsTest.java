package vnet.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The QNX option syntax: what is accepted, how host peers are grouped, and the exact refusals. */
class PeerOptionsTest {

    @Test
    void oneBindPeerWithEveryOption() {
        PeerOptions o = PeerOptions.parseOne("bind=/run/vp.sock,mac=a0b0c0d0e0f0,name=tap,legacy,priority=-3");
        assertEquals(Path.of("/run/vp.sock"), o.bind());
        assertNull(o.peer());
        assertTrue(o.isBind());
        assertEquals(0xa0b0c0d0e0f0L, o.mac());
        assertEquals("a0:b0:c0:d0:e0:f0", o.macString());
        assertEquals("tap", o.name());
        assertTrue(o.legacy());
        assertEquals(10, o.headerSize());
        assertEquals(-3, o.priority());
        assertEquals("tap7", o.interfaceName(7));
        assertEquals("bind=/run/vp.sock,mac=a0b0c0d0e0f0,name=tap,legacy,priority=-3", o.toOptionString());
    }

    @Test
    void defaults() {
        PeerOptions o = PeerOptions.parseOne("peer=/tmp/port.sock");
        assertEquals(Path.of("/tmp/port.sock"), o.peer());
        assertFalse(o.isBind());
        assertEquals(PeerOptions.NO_MAC, o.mac());
        assertNull(o.macString());
        assertEquals("vp", o.name());
        assertFalse(o.legacy());
        assertEquals(12, o.headerSize());
        assertNull(o.priority());
        assertEquals("vp0", o.interfaceName(0));
        assertEquals(PeerOptions.peer(Path.of("/tmp/port.sock")), o);
    }

    @Test
    void everyPeerBeginsANewHostPeer() {
        List<PeerOptions> all = PeerOptions.parse("peer=/a,mac=020000000001,peer=/b,legacy,peer=/c,priority=5");
        assertEquals(3, all.size());
        assertEquals(new PeerOptions(Path.of("/a"), null, 0x020000000001L, "vp", false, null), all.get(0));
        assertEquals(new PeerOptions(Path.of("/b"), null, PeerOptions.NO_MAC, "vp", true, null), all.get(1));
        assertEquals(new PeerOptions(Path.of("/c"), null, PeerOptions.NO_MAC, "vp", false, 5), all.get(2));
    }

    @Test
    void aSecondBindBeginsANewHostPeerAndOptionsBeforeBindBelongToIt() {
        List<PeerOptions> all = PeerOptions.parse("mac=020000000001,bind=/a,bind=/b,name=x,peer=/c");
        assertEquals(List.of(new PeerOptions(null, Path.of("/a"), 0x020000000001L, "vp", false, null),
                new PeerOptions(null, Path.of("/b"), PeerOptions.NO_MAC, "x", false, null),
                PeerOptions.peer(Path.of("/c"))), all);
    }

    @Test
    void macIsCaseInsensitiveHex() {
        assertEquals(0xA0B0C0D0E0F0L, PeerOptions.parseOne("bind=/s,mac=A0b0C0d0E0f0").mac());
    }

    @Test
    void priorityBounds() {
        assertEquals(-20, PeerOptions.parseOne("bind=/s,priority=-20").priority());
        assertEquals(19, PeerOptions.parseOne("bind=/s,priority=+19").priority());
    }

    @Test
    void nameOfFourteenCharactersLeavesRoomForOneDigit() {
        PeerOptions o = PeerOptions.parseOne("bind=/s,name=abcdefghijklmn");
        assertEquals("abcdefghijklmn9", o.interfaceName(9));
        PeerOptionException e = assertThrows(PeerOptionException.class, () -> o.interfaceName(10));
        assertEquals("name=abcdefghijklmn: interface name abcdefghijklmn10 has 16 characters; Linux allows 15 "
                + "(IFNAMSIZ 16 with the terminating NUL)", e.getMessage());
        assertEquals("name=abcdefghijklmn", e.part());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // unknown key
        "peer=/a,speed=10 | speed=10 | unknown option \"speed=10\" (known: peer, bind, mac, name, legacy, priority)",
        "peer=/a,Mac=020000000001 | Mac=020000000001 | unknown option \"Mac=020000000001\" (known: peer, bind, mac, name, legacy, priority)",
        "peer=/a, mac=020000000001 | ` mac=020000000001` | unknown option \" mac=020000000001\" (known: peer, bind, mac, name, legacy, priority)",
        // malformed mac
        "peer=/a,mac=12345 | mac=12345 | mac=12345 is not 12 hexadecimal digits (mac=XXXXXXXXXXXX, e.g. mac=a0b0c0d0e0f0)",
        "peer=/a,mac=a0:b0:c0:d0:e0:f0 | mac=a0:b0:c0:d0:e0:f0 | mac=a0:b0:c0:d0:e0:f0 is not 12 hexadecimal digits (mac=XXXXXXXXXXXX, e.g. mac=a0b0c0d0e0f0)",
        "peer=/a,mac=a0b0c0d0e0fg | mac=a0b0c0d0e0fg | mac=a0b0c0d0e0fg is not 12 hexadecimal digits (mac=XXXXXXXXXXXX, e.g. mac=a0b0c0d0e0f0)",
        "peer=/a,mac=a0b0c0d0e0f0a | mac=a0b0c0d0e0f0a | mac=a0b0c0d0e0f0a is not 12 hexadecimal digits (mac=XXXXXXXXXXXX, e.g. mac=a0b0c0d0e0f0)",
        "peer=/a,mac=010203040506 | mac=010203040506 | mac=010203040506 is a multicast address (the first byte is odd): an interface needs a unicast MAC",
        "peer=/a,mac=000000000000 | mac=000000000000 | mac=000000000000 is the all-zero address: an interface needs a unicast MAC",
        "peer=/a,mac= | mac= | option \"mac=\" needs a value: mac=XXXXXXXXXXXX",
        "peer=/a,mac | mac | option \"mac\" needs a value: mac=XXXXXXXXXXXX",
        // bad priority
        "peer=/a,priority=high | priority=high | priority=high is not a nice value (an integer from -20, highest, to 19, lowest)",
        "peer=/a,priority=1.5 | priority=1.5 | priority=1.5 is not a nice value (an integer from -20, highest, to 19, lowest)",
        "peer=/a,priority=20 | priority=20 | priority=20 is out of range: a nice value is from -20 (highest) to 19 (lowest)",
        "peer=/a,priority=-21 | priority=-21 | priority=-21 is out of range: a nice value is from -20 (highest) to 19 (lowest)",
        "peer=/a,priority= | priority= | option \"priority=\" needs a value: priority=level",
        // missing peer or bind
        "mac=020000000001,legacy | mac=020000000001,legacy | host peer 1 (\"mac=020000000001,legacy\") has neither peer=path nor bind=path",
        "legacy,peer=/a | legacy | host peer 1 (\"legacy\") has neither peer=path nor bind=path",
        "peer= | peer= | option \"peer=\" needs a value: peer=path",
        "bind | bind | option \"bind\" needs a value: bind=path",
        "`` | `` | no host peer: the options are empty (a host peer starts with peer=path or bind=path)",
        // both
        "peer=/a,bind=/b | peer=/a,bind=/b | host peer 1 has both peer=/a and bind=/b: it attaches to a vnet port (peer=) or waits for a guest's vhost-user front-end (bind=), not both",
        // name too long, or not a name
        "bind=/s,name=abcdefghijklmno | name=abcdefghijklmno | name=abcdefghijklmno: interface name abcdefghijklmno0 has 16 characters; Linux allows 15 (IFNAMSIZ 16 with the terminating NUL)",
        "bind=/s,name=a/b | name=a/b | name=a/b: an interface name has printable ASCII characters but no '/', ':', '%' or space",
        "bind=/s,name=vp%d | name=vp%d | name=vp%d: an interface name has printable ASCII characters but no '/', ':', '%' or space",
        // repeated, empty, legacy with a value
        "bind=/s,mac=020000000001,mac=020000000002 | mac=020000000002 | option \"mac=020000000002\" repeats mac for host peer 1",
        "peer=/a,legacy,legacy | legacy | option \"legacy\" repeats legacy for host peer 1",
        "peer=/a,,legacy | `` | empty option at position 2 of \"peer=/a,,legacy\" (two commas in a row, or a comma at an end)",
        "peer=/a, | `` | empty option at position 2 of \"peer=/a,\" (two commas in a row, or a comma at an end)",
        "peer=/a,legacy=1 | legacy=1 | option \"legacy=1\": legacy takes no value",
    })
    void refusedWithAnExactMessage(String options, String part, String message) {
        PeerOptionException e = assertThrows(PeerOptionException.class, () -> PeerOptions.parse(options));
        assertEquals(message, e.getMessage());
        assertEquals(part, e.part());
    }

    @Test
    void socketPathLongerThanSunPathIsRefused() {
        String path = "/" + "p".repeat(107);
        PeerOptionException e = assertThrows(PeerOptionException.class, () -> PeerOptions.parse("bind=" + path));
        assertEquals("bind=" + path + ": a Unix socket path has at most 107 bytes, this one 108", e.getMessage());
        assertEquals(PeerOptions.bind(Path.of(path.substring(1))), PeerOptions.parseOne("bind=" + path.substring(1)));
    }

    @Test
    void oneConfigurationHoldsOneHostPeer() {
        PeerOptionException e = assertThrows(PeerOptionException.class, () -> PeerOptions.parseOne("peer=/a,peer=/b"));
        assertEquals("the options hold 2 host peers; a vnet.peer configuration holds one (make one configuration per peer)",
                e.getMessage());
    }

    @Test
    void theQnxExampleNeedsOneOfPeerAndBind() {
        // QNX: peer=/dev/qvm/vt1,bind=/pkt/vp0,mac=a0b0c0d0e0f0. In vnet a host peer either attaches to a vnet port or
        // is reachable itself; the example refuses with a message saying so.
        PeerOptionException e = assertThrows(PeerOptionException.class,
                () -> PeerOptions.parse("peer=/dev/qvm/vt1,bind=/pkt/vp0,mac=a0b0c0d0e0f0"));
        assertTrue(e.getMessage().startsWith("host peer 1 has both peer=/dev/qvm/vt1 and bind=/pkt/vp0"), e.getMessage());
        assertEquals(0xa0b0c0d0e0f0L, PeerOptions.parseOne("bind=/pkt/vp0,mac=a0b0c0d0e0f0").mac());
    }
}
