package vnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Set;

import org.junit.jupiter.api.Test;

import vnet.switching.PortStats;

/** vnet:stats --reset's baselines: subtracted field by field, and dropped when the port's counters restart. */
class BaselinesTest {
    private static final Instant T = Instant.parse("2026-11-21T10:00:03.123456Z");

    private static PortStats stats(long base) {
        return new PortStats(base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, base + 8, base + 9,
                base + 10, base + 11, base + 12, base + 13, base + 14, base + 15);
    }

    @Test
    void showsCountersSinceTheResetAndWhen() {
        Baselines b = new Baselines(Clock.fixed(T, ZoneOffset.UTC));
        Object link = new Object();
        assertEquals(new Baselines.View(stats(10), null), b.view(link, "l/a", stats(10)), "no reset: as they are");
        Instant at = b.reset(link, "l/a", stats(10), b.now());
        assertEquals(Instant.parse("2026-11-21T10:00:03.123Z"), at, "milliseconds");
        Baselines.View v = b.view(link, "l/a", stats(110));
        assertEquals(at, v.since());
        assertEquals(new PortStats(100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100), v.stats(),
                "every counter minus its baseline");
        assertNull(b.view(link, "l/b", stats(110)).since(), "other ports keep their totals");
    }

    @Test
    void aRestartedPortOrARecreatedLinkDropsTheBaseline() {
        Baselines b = new Baselines(Clock.fixed(T, ZoneOffset.UTC));
        Object link = new Object();
        b.reset(link, "l/a", stats(10), b.now());
        // The port was removed and added again: its counters start over, below the baseline.
        assertEquals(new Baselines.View(stats(0), null), b.view(link, "l/a", stats(0)));
        assertEquals(new Baselines.View(stats(20), null), b.view(link, "l/a", stats(20)), "and stays dropped");

        b.reset(link, "l/a", stats(10), b.now());
        assertNull(b.view(new Object(), "l/a", stats(20)).since(), "another link object of the same name");

        b.reset(link, "l/a", stats(10), b.now());
        b.retain(Set.of("l/b"));
        assertNull(b.view(link, "l/a", stats(20)).since(), "forgotten once the port is gone");
    }
}
