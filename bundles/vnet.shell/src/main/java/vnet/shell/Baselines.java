package vnet.shell;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import vnet.switching.PortStats;

/**
 * What {@code vnet:stats --reset} took: per port ({@code link/port}), its counters at the reset and when.
 * {@code vnet:stats} shows the counters minus that baseline. The counters themselves are never reset: Prometheus
 * {@code _total} series and the JMX attributes must stay monotonic, and other consoles may be watching them.
 * Held by the shell, so one per vnet (every console and {@code vnetctl} client sees the same), until the shell
 * bundle restarts.
 */
final class Baselines {
    /** {@code owner}: the running link or switch object, so that a re-created one starts without a baseline. */
    private record Baseline(Object owner, PortStats at, Instant time) {
    }

    /** The counters as shown, and since when ({@code null}: since the port came up). */
    record View(PortStats stats, Instant since) {
    }

    private final Map<String, Baseline> byPort = new ConcurrentHashMap<>();
    private final Clock clock;

    Baselines(Clock clock) {
        this.clock = clock;
    }

    /** Takes {@code now} as the port's baseline; returns its time. */
    Instant reset(Object owner, String port, PortStats now, Instant time) {
        byPort.put(port, new Baseline(owner, now, time));
        return time;
    }

    /** The time a reset takes now (milliseconds are enough for an operator, and keep JSON short). */
    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }

    /**
     * The port's counters since its baseline. A baseline whose link was re-created, or whose counters went below
     * it (the port was removed and added again), no longer applies and is dropped.
     */
    View view(Object owner, String port, PortStats now) {
        Baseline b = byPort.get(port);
        if (b == null) {
            return new View(now, null);
        }
        if (b.owner() != owner || below(now, b.at())) {
            byPort.remove(port, b);
            return new View(now, null);
        }
        return new View(minus(now, b.at()), b.time());
    }

    /** Forgets the baselines of ports that are gone. */
    void retain(Set<String> ports) {
        byPort.keySet().retainAll(ports);
    }

    static PortStats minus(PortStats a, PortStats b) {
        long[] x = fields(a);
        long[] y = fields(b);
        for (int i = 0; i < x.length; i++) {
            x[i] -= y[i];
        }
        return new PortStats(x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11], x[12], x[13],
                x[14]);
    }

    private static boolean below(PortStats now, PortStats at) {
        long[] x = fields(now);
        long[] y = fields(at);
        for (int i = 0; i < x.length; i++) {
            if (x[i] < y[i]) {
                return true;
            }
        }
        return false;
    }

    /** The counters in the record's component order. */
    private static long[] fields(PortStats s) {
        return new long[] {s.txFrames(), s.txBytes(), s.rxFrames(), s.rxBytes(), s.dropsNoRxBuffer(), s.dropsTooBig(),
            s.dropsVlan(), s.dropsSpoofed(), s.dropsQueueError(), s.dropsOffload(), s.dropsMonitor(), s.dropsNoPeer(),
            s.dropsMacLimit(), s.dropsFloodLimit(), s.dropsMtu()};
    }
}
