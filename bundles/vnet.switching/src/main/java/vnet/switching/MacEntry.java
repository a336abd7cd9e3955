package vnet.switching;

/**
 * One learned address of a switch's MAC table.
 *
 * @param mac       the station's MAC address (48 bits, see {@link MacAddress})
 * @param vlan      the VLAN it was learned on
 * @param port      the port it was last seen on
 * @param ageMillis time since it was last seen
 */
public record MacEntry(long mac, int vlan, String port, long ageMillis) {
    @Override
    public String toString() {
        return MacAddress.toString(mac) + " vlan " + vlan + " port " + port + " age " + ageMillis / 1000 + "s";
    }
}
