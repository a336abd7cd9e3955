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
        "peer= | peer= | option \"peer=\" needs a value: peer=path or peer=<link>:<port>",
        "peer | peer | option \"peer\" needs a value: peer=path or peer=<link>:<port>",
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
        // peer=<link>:<port> (a value without '/')
        "peer=:hp | peer=:hp | peer=:hp: the switch or link name before ':' is empty (peer=<link>:<port>, e.g. peer=sw:hp)",
        "peer=: | peer=: | peer=:: the switch or link name before ':' is empty (peer=<link>:<port>, e.g. peer=sw:hp)",
        "peer=sw: | peer=sw: | peer=sw:: the port name after ':' is empty (peer=<link>:<port>, e.g. peer=sw:hp)",
        "peer=sw:h:p | peer=sw:h:p | peer=sw:h:p: a switch port has one ':' between the switch or link name and the port name (peer=<link>:<port>, e.g. peer=sw:hp)",
        "peer=s w:hp | peer=s w:hp | peer=s w:hp: the switch or link name \"s w\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=sw\\1:hp | peer=sw\\1:hp | peer=sw\\1:hp: the switch or link name \"sw\\1\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=..:hp | peer=..:hp | peer=..:hp: the switch or link name \"..\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=sw:h%p | peer=sw:h%p | peer=sw:h%p: the port name \"h%p\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=sw:hp*,legacy | peer=sw:hp* | peer=sw:hp*: the port name \"hp*\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=sw:(hp) | peer=sw:(hp) | peer=sw:(hp): the port name \"(hp)\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=sw:. | peer=sw:. | peer=sw:.: the port name \".\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=sw:h\u00e9 | peer=sw:h\u00e9 | peer=sw:h\u00e9: the port name \"h\u00e9\" is not a valid name (1..64 letters, digits, '.', '_', '-', starting with a letter or digit)",
        "peer=hp.sock | peer=hp.sock | peer=hp.sock is neither a socket path (a path contains '/', e.g. peer=./hp.sock) nor a switch port (peer=<link>:<port>, e.g. peer=sw:hp)",
        "peer=sw:hp,bind=/b | peer=sw:hp,bind=/b | host peer 1 has both peer=sw:hp and bind=/b: it attaches to a vnet port (peer=) or waits for a guest's vhost-user front-end (bind=), not both",
    })
    void refusedWithAnExactMessage(String options, String part, String message) {
        PeerOptionException e = assertThrows(PeerOptionException.class, () -> PeerOptions.parse(options));
        assertEquals(message, e.getMessage());
        assertEquals(part, e.part());
    }

    @Test
    void aPeerValueWithoutSlashIsASwitchPort() {
        PeerOptions o = PeerOptions.parseOne("peer=sw:hp,mac=020000000042,name=vps,legacy,priority=-5");
        assertEquals(new SwitchPort("sw", "hp"), o.peerPort());
        assertTrue(o.isSwitchPort());
        assertFalse(o.isBind());
        assertNull(o.peer());
        assertNull(o.bind());
        assertEquals("sw:hp", o.target());
        assertEquals(new PeerOptions(null, null, 0x020000000042L, "vps", true, -5, new SwitchPort("sw", "hp")), o);
        assertEquals("peer=sw:hp,mac=020000000042,name=vps,legacy,priority=-5", o.toOptionString());
        assertEquals(o, PeerOptions.parseOne(o.toOptionString()));
        assertEquals(PeerOptions.peer(new SwitchPort("Lab-1.a_b", "host.peer-0")), PeerOptions.parseOne("peer=Lab-1.a_b:host.peer-0"));
        String longest = "n".repeat(64);
        assertEquals(new SwitchPort(longest, longest), PeerOptions.parseOne("peer=" + longest + ":" + longest).peerPort());
        PeerOptionException e = assertThrows(PeerOptionException.class, () -> PeerOptions.parse("peer=" + longest + "n:hp"));
        assertEquals("peer=" + longest + "n:hp: the switch or link name \"" + longest + "n\" is not a valid name (1..64 letters, "
                + "digits, '.', '_', '-', starting with a letter or digit)", e.getMessage());
        // several host peers of both forms in one string
        assertEquals(List.of(PeerOptions.peer(new SwitchPort("sw", "a")), PeerOptions.peer(Path.of("/run/b.sock"))),
                PeerOptions.parse("peer=sw:a,peer=/run/b.sock"));
    }

    @Test
    void aPeerValueWithSlashIsASocketPath() {
        assertEquals(PeerOptions.peer(Path.of("/run/vnet/sw:hp.sock")), PeerOptions.parseOne("peer=/run/vnet/sw:hp.sock"));
        assertEquals(PeerOptions.peer(Path.of("./hp.sock")), PeerOptions.parseOne("peer=./hp.sock"));
        assertEquals(PeerOptions.peer(Path.of("sw/hp")), PeerOptions.parseOne("peer=sw/hp"));
        assertFalse(PeerOptions.parseOne("peer=./hp.sock").isSwitchPort());
        // bind= is always a path
        assertEquals(PeerOptions.bind(Path.of("sw:hp")), PeerOptions.parseOne("bind=sw:hp"));
    }

    /** Without a resolver (plain Java, no framework) a switch port cannot be found: refused before any TAP is made. */
    @Test
    void aSwitchPortNeedsAResolver() {
        String message = "peer=sw:hp names a switch port, which a host peer reaches only in-process: as a vnet.peer "
                + "configuration in the OSGi framework, or through an InprocPortResolver given to HostPeer.start; here "
                + "give the port's socket path instead (a path contains '/')";
        PeerOptionException e = assertThrows(PeerOptionException.class,
                () -> HostPeer.start(PeerOptions.parseOne("peer=sw:hp,name=vpnone"), -1));
        assertEquals(message, e.getMessage());
        assertEquals("peer=sw:hp", e.part());
        e = assertThrows(PeerOptionException.class, () -> HostPeer.startAll("bind=/nonexistent/x.sock,peer=sw:hp"));
        assertEquals(message, e.getMessage());
        e = assertThrows(PeerOptionException.class,
                () -> new vnet.peer.internal.HostPeerComponent(HostPeerTapTest.config("peer=sw:hp", -1)));
        assertEquals(message, e.getMessage());
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
