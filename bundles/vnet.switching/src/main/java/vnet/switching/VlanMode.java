package vnet.switching;

import java.util.Arrays;

/**
 * A switch port's 802.1Q mode. An <em>access</em> port belongs to one VLAN: its client sends and receives untagged
 * frames (the tag is stripped on egress, tagged ingress is dropped). A <em>trunk</em> port carries tagged frames of
 * its member VLANs (a list, or all): untagged ingress and frames of other VLANs are dropped. The default (an empty
 * setting) is access VLAN 1. Immutable; {@link #admits(int)} allocates nothing.
 */
public final class VlanMode {
    /** Lowest and highest usable VLAN id (0 means priority-tagged, 4095 is reserved). */
    public static final int MIN_ID = 1;
    public static final int MAX_ID = 4094;

    /** Access VLAN 1: what a port without a vlan setting is. */
    public static final VlanMode DEFAULT = access(1);

    private final boolean trunk;
    private final int accessVlan;
    private final long[] members = new long[64];
    private final String text;

    private VlanMode(boolean trunk, int accessVlan, int[] ids, boolean all) {
        this.trunk = trunk;
        this.accessVlan = accessVlan;
        if (trunk) {
            for (int id = MIN_ID; id <= MAX_ID; id++) {
                if (all || Arrays.binarySearch(ids, id) >= 0) {
                    members[id >>> 6] |= 1L << id;
                }
            }
        } else {
            members[accessVlan >>> 6] |= 1L << accessVlan;
        }
        this.text = trunk ? "trunk:" + (all ? "all" : join(ids)) : "access:" + accessVlan;
    }

    /** An access port of VLAN {@code id}. */
    public static VlanMode access(int id) {
        checkId(id, "access:" + id);
        return new VlanMode(false, id, null, false);
    }

    /** A trunk of the VLANs {@code ids}. */
    public static VlanMode trunk(int... ids) {
        int[] sorted = Arrays.stream(ids).sorted().distinct().toArray();
        if (sorted.length == 0) {
            throw new IllegalArgumentException("vlan \"trunk:\" lists no VLAN");
        }
        for (int id : sorted) {
            checkId(id, "trunk:" + join(sorted));
        }
        return new VlanMode(true, 0, sorted, false);
    }

    /** A trunk of every VLAN 1..4094. */
    public static VlanMode trunkAll() {
        return new VlanMode(true, 0, null, true);
    }

    /**
     * Parses the {@code vlan} port setting: empty or null (access VLAN 1), {@code access:<id>},
     * {@code trunk:<id>[,<id>|<from>-<to>...]} or {@code trunk:all}. Errors name the bad part:
     * <ul>
     * <li>{@code vlan "<text>" is not access:<1..4094>, trunk:<id>[,<id>...] or trunk:all}</li>
     * <li>{@code vlan "<text>": "<part>" is not a VLAN id}</li>
     * <li>{@code vlan "<text>": VLAN id <n> is out of range 1..4094}</li>
     * </ul>
     */
    public static VlanMode parse(String text) {
        if (text == null || text.isBlank()) {
            return DEFAULT;
        }
        String t = text.trim();
        if (t.startsWith("access:")) {
            return access(id(t, t.substring(7)));
        }
        if (t.equals("trunk:all")) {
            return trunkAll();
        }
        if (t.startsWith("trunk:") && t.length() > 6) {
            String[] parts = t.substring(6).split(",", -1);
            int[] ids = new int[0];
            for (String p : parts) {
                int dash = p.indexOf('-');
                if (dash > 0) {
                    int from = id(t, p.substring(0, dash));
                    int to = id(t, p.substring(dash + 1));
                    if (to < from) {
                        throw new IllegalArgumentException("vlan \"" + t + "\": range \"" + p + "\" is empty");
                    }
                    int n = ids.length;
                    ids = Arrays.copyOf(ids, n + to - from + 1);
                    for (int v = from; v <= to; v++) {
                        ids[n++] = v;
                    }
                } else {
                    ids = Arrays.copyOf(ids, ids.length + 1);
                    ids[ids.length - 1] = id(t, p);
                }
            }
            return trunk(ids);
        }
        throw new IllegalArgumentException("vlan \"" + t + "\" is not access:<1..4094>, trunk:<id>[,<id>...] or trunk:all");
    }

    private static int id(String text, String part) {
        if (!part.matches("[0-9]{1,6}")) {
            throw new IllegalArgumentException("vlan \"" + text + "\": \"" + part + "\" is not a VLAN id");
        }
        int id = Integer.parseInt(part);
        checkId(id, text);
        return id;
    }

    private static void checkId(int id, String text) {
        if (id < MIN_ID || id > MAX_ID) {
            throw new IllegalArgumentException("vlan \"" + text + "\": VLAN id " + id + " is out of range "
                    + MIN_ID + ".." + MAX_ID);
        }
    }

    /** Sorted ids as a list, runs of three or more as {@code from-to}. */
    private static String join(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < ids.length; ) {
            int j = i;
            while (j + 1 < ids.length && ids[j + 1] == ids[j] + 1) {
                j++;
            }
            b.append(b.length() == 0 ? "" : ",").append(ids[i]);
            if (j - i >= 2) {
                b.append('-').append(ids[j]);
                i = j + 1;
            } else {
                i++;
            }
        }
        return b.toString();
    }

    /** Whether frames are tagged on this port. */
    public boolean isTrunk() {
        return trunk;
    }

    /** The VLAN of an access port (0 for a trunk). */
    public int accessVlan() {
        return accessVlan;
    }

    /** Whether VLAN {@code id} may enter and leave through this port. */
    public boolean admits(int id) {
        return (members[(id >>> 6) & 63] & (1L << id)) != 0 && id >= MIN_ID && id <= MAX_ID;
    }

    /** The canonical setting: {@code access:<id>}, {@code trunk:<ids>} or {@code trunk:all}. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VlanMode v && v.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
