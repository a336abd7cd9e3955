package vnet.transport.vxlan.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import vnet.switching.PortOptions;
import vnet.transport.vxlan.VxlanOptions;

/** The VXLAN header byte for byte, the flow hash and source ports, remote learning, and every bad option's message. */
class VxlanCodecTest {

    @Test
    void headerIsTheIFlagThenTheVni() {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        Vxlan.writeHeader(b, 0, 42);
        assertEquals("08000000 00002a00", hex(b, 0, 4) + " " + hex(b, 4, 4));
        assertEquals(Vxlan.OK, Vxlan.check(b, 0, 42));
        assertEquals(Vxlan.WRONG_VNI, Vxlan.check(b, 0, 43));
        Vxlan.writeHeader(b, 0, VxlanOptions.VNI_MAX);
        assertEquals("08000000 ffffff00", hex(b, 0, 4) + " " + hex(b, 4, 4));
        assertEquals(Vxlan.OK, Vxlan.check(b, 0, VxlanOptions.VNI_MAX));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"00000000 00002a00", "0c000000 00002a00", "08000001 00002a00", "88000000 00002a00", "08000000 00002a01"})
    void headersWithoutTheIFlagOrWithReservedBitsAreRefused(String header) {
        UnsafeBuffer b = new UnsafeBuffer(unhex(header.replace(" ", "")));
        assertEquals(Vxlan.BAD_FLAGS, Vxlan.check(b, 0, 42));
    }

    @Test
    void udpHeaderHasPortsLengthAndNoChecksum() {
        UnsafeBuffer b = new UnsafeBuffer(new byte[8]);
        Vxlan.writeUdpHeader(b, 0, 50000, 4789, 16 + 60);
        assertEquals("c35012b5004c0000", hex(b, 0, 8));
    }

    @Test
    void sourcePortFollowsTheFlowAndStaysInTheLocalPortRange() {
        Set<Integer> ports = new HashSet<>();
        for (int p = 0; p < 200; p++) {
            UnsafeBuffer f = tcpFrame(1000 + p);
            int port = Vxlan.sourcePort(Vxlan.flowHash(f, 0, 64));
            assertTrue(port >= 32768 && port <= 60999, "port " + port);
            assertEquals(port, Vxlan.sourcePort(Vxlan.flowHash(tcpFrame(1000 + p), 0, 64)), "same flow, same port");
            ports.add(port);
        }
        assertTrue(ports.size() > 190, "flows spread over source ports: " + ports.size() + " of 200 distinct");
        assertEquals(Vxlan.SOURCE_PORT_MIN, Vxlan.sourcePort(0));
        assertEquals(Vxlan.SOURCE_PORT_MAX, Vxlan.sourcePort(-1));
    }

    @Test
    void theRemoteOfALearnedAddressIsKnownUntilItAges() {
        VtepTable t = new VtepTable(16, 1000);
        long mac = 0x02_00_00_00_00_01L;
        assertEquals(-1, t.lookup(mac, 0));
        t.learn(mac, 3, 10);
        assertEquals(3, t.lookup(mac, 500));
        t.learn(mac, 1, 600); // moved behind another remote
        assertEquals(1, t.lookup(mac, 700));
        assertEquals(1, t.moves);
        assertEquals(1, t.lookup(mac, 1600));
        assertEquals(-1, t.lookup(mac, 1601), "aged");
        for (int i = 0; i < 16; i++) {
            t.learn(0x02_00_00_00_01_00L + i, i % 4, 2000);
        }
        for (int i = 0; i < 16; i++) {
            assertEquals(i % 4, t.lookup(0x02_00_00_00_01_00L + i, 2000));
        }
        t.learn(0x02_00_00_00_02_00L, 0, 2000);
        assertEquals(1, t.learnFailures, "a full table counts what it cannot learn");
        assertEquals(-1, t.lookup(0x02_00_00_00_02_00L, 2000));
        t.learn(0x02_00_00_00_02_00L, 2, 4000); // everything else aged: its slot is reused
        assertEquals(2, t.lookup(0x02_00_00_00_02_00L, 4000));
    }

    @Test
    void optionsParseWithTheirDefaults() {
        VxlanOptions o = VxlanOptions.parse(PortOptions.parse("vni=42 local=192.0.2.101 remote=192.0.2.102,192.0.2.103",
                "vxlan", VxlanOptions.KEYS).transport(), -1);
        assertEquals(42, o.vni());
        assertEquals(4789, o.dstport());
        assertEquals("vni=42 local=192.0.2.101 remote=192.0.2.102,192.0.2.103 dstport=4789", o.toString());
        PortOptions canonical = PortOptions.parse("ds-max=2 vni=42 local=192.0.2.101 remote=192.0.2.102,192.0.2.103",
                "vxlan", VxlanOptions.KEYS);
        assertEquals(canonical, PortOptions.parse(canonical.toString(), "vxlan", VxlanOptions.KEYS), "round trip");
        assertEquals(16777215, VxlanOptions.parse(Map.of("vni", "16777215", "local", "192.0.2.1", "remote", "192.0.2.2",
                "dstport", "8472"), -1).vni());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', value = {
        "vni=0 local=192.0.2.101 remote=192.0.2.102        | vni=0 is out of range 1..16777215",
        "vni=16777216 local=192.0.2.101 remote=192.0.2.102 | vni=16777216 is out of range 1..16777215",
        "vni=-1 local=192.0.2.101 remote=192.0.2.102       | vni=-1 is out of range 1..16777215",
        "vni=forty local=192.0.2.101 remote=192.0.2.102    | vni=forty is not a number",
        "vni=42 local=192.0.2 remote=192.0.2.102           | local=192.0.2 is not an IPv4 address",
        "vni=42 local=192.0.2.300 remote=192.0.2.102       | local=192.0.2.300 is not an IPv4 address",
        "vni=42 local=host.example remote=192.0.2.102      | local=host.example is not an IPv4 address",
        "vni=42 local=192.0.2.101 remote=192.0.2.102,x     | remote=192.0.2.102,x: \"x\" is not an IPv4 address",
        "vni=42 local=192.0.2.101 remote=224.0.0.1         | remote=224.0.0.1 is not a unicast IPv4 address",
        "vni=42 remote=192.0.2.102                         | a vxlan port needs local=<IPv4 address>",
        "vni=42 local=192.0.2.101                          | a vxlan port needs remote=<IPv4 address>[,<IPv4 address>...]",
        "local=192.0.2.101 remote=192.0.2.102              | a vxlan port needs vni=<1..16777215>",
        "vni=42 local=192.0.2.101 remote=192.0.2.101       | remote=192.0.2.101 is the local address",
        "vni=42 local=192.0.2.101 remote=192.0.2.2,192.0.2.2 | remote=192.0.2.2,192.0.2.2 lists 192.0.2.2 twice",
        "vni=42 local=192.0.2.101 remote=192.0.2.102 dstport=0 | dstport=0 is out of range 1..65535",
        "vni=42 local=192.0.2.101 remote=192.0.2.102 dstport=65536 | dstport=65536 is out of range 1..65535",
        "vni=42 local=192.0.2.101 remote=192.0.2.102 mac=02:00:00:00:00:01 | mac= does not apply to a vxlan port: it carries the addresses of every station behind its remotes",
        "vni=42 vni=43 local=192.0.2.101 remote=192.0.2.102 | option \"vni\" given twice",
        "vni=42 local=192.0.2.101 remote=192.0.2.102 ttl=4 | unknown option \"ttl=4\" (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535>, queues=<1..64> or a vxlan option: dstport, local, remote, vni)",
    })
    void badOptionsAreRefusedInOneLine(String options, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            PortOptions p = PortOptions.parse(options, "vxlan", VxlanOptions.KEYS);
            new VxlanTransport().checkOptions(p.transport(), p.mac());
        });
        assertEquals(message, e.getMessage());
        assertTrue(!e.getMessage().contains("\n"));
    }

    @Test
    void transportsWithoutOptionsStillRefuseTheirKeys() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PortOptions.parse("vni=42"));
        assertEquals("unknown option \"vni=42\" (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535> or queues=<1..64>)", e.getMessage());
        assertNotEquals(PortOptions.DEFAULTS, PortOptions.parseAnyTransport("vni=42"));
    }

    /** An Ethernet + IPv4 + TCP frame of 64 bytes from 198.51.100.1:{@code sport} to 198.51.100.2:80. */
    static UnsafeBuffer tcpFrame(int sport) {
        UnsafeBuffer f = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
        f.putBytes(0, unhex("020000000002" + "020000000001" + "0800"));
        f.putBytes(14, unhex("4500003200004000400600000000000000000000"));
        f.putBytes(26, new byte[] {(byte) 198, 51, 100, 1, (byte) 198, 51, 100, 2});
        f.putShort(34, (short) Short.reverseBytes((short) sport));
        f.putShort(36, (short) Short.reverseBytes((short) 80));
        return f;
    }

    static String hex(UnsafeBuffer b, int at, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < n; i++) {
            s.append(String.format("%02x", b.getByte(at + i)));
        }
        return s.toString();
    }

    static byte[] unhex(String s) {
        byte[] b = new byte[s.length() / 2];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return b;
    }
}
