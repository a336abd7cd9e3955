package vnet.systemtest;

import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import vnet.testing.QemuGuest;

/** A guest that pings in a loop and prints one "VNET-PING n ok|fail" console line per ping, and waiting on it. */
final class GuestPings {
    private static final Pattern PING = Pattern.compile("VNET-PING (\\d+) (ok|fail)");

    private GuestPings() {
    }

    /** The guest's shell loop: {@code count} pings of {@code peer}, {@code pause} seconds apart. */
    static String script(String peer, int count, String pause) {
        return "i=0; while [ $i -lt " + count + " ]; do i=$((i+1)); if ping -c 1 -W 1 " + peer + " >/dev/null 2>&1;"
                + " then echo \"VNET-PING $i ok\"; else echo \"VNET-PING $i fail\"; fi; sleep " + pause + "; done";
    }

    /** Waits for a "VNET-PING n ok|fail" line with n after {@code after}; returns n. */
    static int await(QemuGuest guest, String outcome, int after, Duration limit, VnetRuntime vnet)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = PING.matcher(guest.console());
            while (m.find()) {
                int n = Integer.parseInt(m.group(1));
                if (n > after && m.group(2).equals(outcome)) {
                    return n;
                }
            }
            if (!guest.isAlive()) {
                break;
            }
            Thread.sleep(100);
        }
        throw new TimeoutException("no ping " + outcome + " after #" + after + " within " + limit + "\nguest:\n"
                + guest.console() + "\nvnet:\n" + vnet.output());
    }
}
