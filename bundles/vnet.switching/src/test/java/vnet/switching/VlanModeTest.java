package vnet.switching;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The vlan port setting: access, trunk lists and ranges, trunk:all, and every bad form refused by name. */
class VlanModeTest {

    @Test
    void emptyIsAccessVlanOne() {
        assertSame(VlanMode.DEFAULT, VlanMode.parse(""));
        assertSame(VlanMode.DEFAULT, VlanMode.parse(null));
        assertEquals("access:1", VlanMode.DEFAULT.toString());
        assertFalse(VlanMode.DEFAULT.isTrunk());
        assertEquals(1, VlanMode.DEFAULT.accessVlan());
    }

    @Test
    void accessAdmitsItsVlanOnly() {
        VlanMode m = VlanMode.parse("access:10");
        assertTrue(m.admits(10));
        assertFalse(m.admits(1));
        assertFalse(m.admits(0));
        assertFalse(m.admits(4095));
        assertEquals(VlanMode.access(10), m);
    }

    @Test
    void trunkListsRangesAndAll() {
        VlanMode t = VlanMode.parse("trunk:20,10,100-102");
        assertTrue(t.isTrunk());
        assertTrue(t.admits(10) && t.admits(20) && t.admits(100) && t.admits(101) && t.admits(102));
        assertFalse(t.admits(11) || t.admits(103) || t.admits(0) || t.admits(4095));
        assertEquals("trunk:10,20,100-102", t.toString());
        VlanMode all = VlanMode.parse("trunk:all");
        assertTrue(all.admits(1) && all.admits(4094));
        assertFalse(all.admits(0) || all.admits(4095));
        assertEquals("trunk:all", all.toString());
        assertEquals("trunk:5,6", VlanMode.parse("trunk:6,5,5").toString());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @CsvSource(delimiter = '|', value = {
        "access            | vlan \"access\" is not access:<1..4094>, trunk:<id>[,<id>...] or trunk:all",
        "tagged:10         | vlan \"tagged:10\" is not access:<1..4094>, trunk:<id>[,<id>...] or trunk:all",
        "trunk:            | vlan \"trunk:\" is not access:<1..4094>, trunk:<id>[,<id>...] or trunk:all",
        "access:0          | vlan \"access:0\": VLAN id 0 is out of range 1..4094",
        "access:4095       | vlan \"access:4095\": VLAN id 4095 is out of range 1..4094",
        "access:ten        | vlan \"access:ten\": \"ten\" is not a VLAN id",
        "access:           | vlan \"access:\": \"\" is not a VLAN id",
        "trunk:10,,20      | vlan \"trunk:10,,20\": \"\" is not a VLAN id",
        "trunk:10,x        | vlan \"trunk:10,x\": \"x\" is not a VLAN id",
        "trunk:10,5000     | vlan \"trunk:10,5000\": VLAN id 5000 is out of range 1..4094",
        "trunk:20-10       | vlan \"trunk:20-10\": range \"20-10\" is empty",
        "trunk:all,10      | vlan \"trunk:all,10\": \"all\" is not a VLAN id",
    })
    void badSettingsAreRefusedByName(String setting, String message) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, () -> VlanMode.parse(setting)).getMessage());
    }
}
