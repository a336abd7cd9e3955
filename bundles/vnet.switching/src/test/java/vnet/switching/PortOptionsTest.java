package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The L4Re create() options: each optional, any order, and every bad one refused with a message naming it. */
class PortOptionsTest {

    @Test
    void defaultsWhenEmpty() {
        assertEquals(new PortOptions(2, MacAddress.NONE), PortOptions.parse(""));
        assertEquals(new PortOptions(2, MacAddress.NONE), PortOptions.parse(null));
        assertEquals(new PortOptions(2, MacAddress.NONE), PortOptions.parse("  , "));
        assertEquals("ds-max=2", PortOptions.DEFAULTS.toString());
    }

    @Test
    void anyOrderSpacesOrCommas() {
        PortOptions want = new PortOptions(4, 0x02_00_00_00_00_01L);
        assertEquals(want, PortOptions.parse("ds-max=4 mac=02:00:00:00:00:01"));
        assertEquals(want, PortOptions.parse("mac=02:00:00:00:00:01,ds-max=4"));
        assertEquals(want, PortOptions.parse(" mac=02:00:00:00:00:01 ,  ds-max=4 "));
        assertEquals(new PortOptions(80, MacAddress.NONE), PortOptions.parse("ds-max=80"));
        assertEquals(new PortOptions(1, 0xAA_BB_CC_DD_EE_FEL),
                PortOptions.parse("mac=AA:bb:CC:dd:EE:fe ds-max=1"));
        assertEquals("ds-max=4 mac=02:00:00:00:00:01", want.toString());
    }

    @Test
    void offloadsAndMtu() {
        assertEquals(true, PortOptions.DEFAULTS.offloads());
        assertEquals(PortOptions.NO_MTU, PortOptions.DEFAULTS.mtu());
        PortOptions o = PortOptions.parse("offloads=off mtu=1500 ds-max=3");
        assertEquals(new PortOptions(3, MacAddress.NONE, java.util.Map.of(), 0, 0, false, 1500, 1), o);
        assertEquals("ds-max=3 offloads=off mtu=1500", o.toString());
        assertEquals(o, PortOptions.parse(o.toString()));
        assertEquals(true, PortOptions.parse("offloads=on").offloads());
        assertEquals(65535, PortOptions.parse("mtu=65535").mtu());
        assertEquals(68, PortOptions.parse("mtu=68").mtu());
        assertEquals(1, PortOptions.DEFAULTS.queues());
        PortOptions q = PortOptions.parse("queues=4");
        assertEquals(4, q.queues());
        assertEquals("ds-max=2 queues=4", q.toString());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', value = {
        "ds-max=0                          | ds-max=0 is out of range 1..80",
        "ds-max=81                         | ds-max=81 is out of range 1..80",
        "ds-max=-1                         | ds-max=-1 is out of range 1..80",
        "ds-max=four                       | ds-max=four is not a number",
        "ds-max=                           | ds-max= is not a number",
        "ds-max=99999999999                | ds-max=99999999999 is out of range 1..80",
        "ds-max=4.5                        | ds-max=4.5 is not a number",
        "mac=02:00:00:00:00                | mac=02:00:00:00:00 is not of the form xx:xx:xx:xx:xx:xx",
        "mac=02:00:00:00:00:0g             | mac=02:00:00:00:00:0g is not of the form xx:xx:xx:xx:xx:xx",
        "mac=02-00-00-00-00-01             | mac=02-00-00-00-00-01 is not of the form xx:xx:xx:xx:xx:xx",
        "mac=                              | mac= is not of the form xx:xx:xx:xx:xx:xx",
        "mac=01:00:5e:00:00:01             | mac=01:00:5e:00:00:01 is a multicast address",
        "mac=ff:ff:ff:ff:ff:ff             | mac=ff:ff:ff:ff:ff:ff is a multicast address",
        "max-macs=0                        | max-macs=0 is out of range 1..1048576",
        "max-macs=many                     | max-macs=many is not a number",
        "max-macs=2 max-macs=3             | option \"max-macs\" given twice",
        "flood-limit=0                     | flood-limit=0 is out of range 1..100000000",
        "flood-limit=99999999999           | flood-limit=99999999999 is out of range 1..100000000",
        "speed=10                          | unknown option \"speed=10\" (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535> or queues=<1..64>)",
        "ds-max=2 DS-MAX=3                 | unknown option \"DS-MAX=3\" (expected ds-max=<1..80>, mac=<xx:xx:xx:xx:xx:xx>, max-macs=<n>, flood-limit=<frames/s>, offloads=<on or off>, mtu=<68..65535> or queues=<1..64>)",
        "offloads=maybe                    | offloads=maybe is not on or off",
        "offloads=OFF                      | offloads=OFF is not on or off",
        "offloads=off offloads=on          | option \"offloads\" given twice",
        "mtu=67                            | mtu=67 is out of range 68..65535",
        "mtu=65536                         | mtu=65536 is out of range 68..65535",
        "mtu=1500.0                        | mtu=1500.0 is not a number",
        "mtu=                              | mtu= is not a number",
        "mtu=99999999999                   | mtu=99999999999 is out of range 68..65535",
        "mtu=1500 mtu=9000                 | option \"mtu\" given twice",
        "queues=0                          | queues=0 is out of range 1..64",
        "queues=65                         | queues=65 is out of range 1..64",
        "queues=two                        | queues=two is not a number",
        "queues=2 queues=2                 | option \"queues\" given twice",
        "ds-max                            | malformed option \"ds-max\" (expected key=value)",
        "=4                                | malformed option \"=4\" (expected key=value)",
        "ds-max=2 ds-max=3                 | option \"ds-max\" given twice",
        "mac=02:00:00:00:00:01 mac=02:00:00:00:00:02 | option \"mac\" given twice",
    })
    void badOptionsAreRefusedByName(String options, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PortOptions.parse(options));
        assertEquals(message, e.getMessage());
    }

    @Test
    void macAddressesPrintAndParse() {
        assertEquals("02:00:0a:ff:00:01", MacAddress.toString(MacAddress.parse("02:00:0A:FF:00:01")));
        assertEquals("", MacAddress.toString(MacAddress.NONE));
        assertEquals(true, MacAddress.isMulticast(MacAddress.BROADCAST));
        assertEquals(false, MacAddress.isMulticast(0x02_00_00_00_00_01L));
    }
}
