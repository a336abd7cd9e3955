package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import vnet.testing.GuestImage;
import vnet.testing.QemuGuest;
import vnet.testing.WorkDir;

/**
 * A guest pings a Java bundle: the example responder, installed into the running runtime, attaches to an
 * inproc port of the switch the guest is on. Stopping the bundle detaches it (pings fail), starting it
 * again reattaches it (pings answered again).
 */
@Tag("real-peer")
class ResponderGuestPingTest {
    private static final Pattern PING = Pattern.compile("VNET-PING (\\d+) (ok|fail)");

    @Test
    @Timeout(value = 7, unit = TimeUnit.MINUTES)
    void guestPingsTheHotDeployedResponder() throws Exception {
        GuestImage.get();
        try (WorkDir dir = WorkDir.create("vnet-st-");
                VnetRuntime vnet = VnetRuntime.start(dir.path(), dir.resolve("run"), "-Dvnet.default=false")) {
            vnet.run("vnet:create switch sw");
            String port = vnet.run("vnet:create port sw g mac=02:00:00:00:10:01");
            Matcher nic = Pattern.compile("nic g: (.*)$", Pattern.MULTILINE).matcher(port);
            assertTrue(nic.find(), port);
            vnet.run("vnet:create port sw responder --transport inproc mac=02:00:00:00:00:64");
            Matcher id = Pattern.compile("Bundle ID: (\\d+)").matcher(
                    vnet.run("install " + Build.bundle("vnet.example.responder").toUri()));
            assertTrue(id.find());
            assertTrue(vnet.run("start " + id.group(1)).contains("attached to port responder"));

            String script = "i=0; while [ $i -lt 400 ]; do i=$((i+1)); if ping -c 1 -W 1 192.0.2.100 >/dev/null 2>&1;"
                    + " then echo \"VNET-PING $i ok\"; else echo \"VNET-PING $i fail\"; fi; sleep 0.5; done";
            try (QemuGuest guest = QemuGuest.builder("g").workDir(dir.path())
                    .qemuArgs(nic.group(1).trim().split(" +")).ip("192.0.2.1/24").command(script)
                    .timeLimit(Duration.ofMinutes(6)).start()) {
                int ok = await(guest, "ok", 0, Duration.ofMinutes(3), vnet);
                assertTrue(vnet.run("stop " + id.group(1)).contains("detached from port responder"));
                int fail = await(guest, "fail", ok, Duration.ofSeconds(90), vnet);
                assertTrue(vnet.run("start " + id.group(1)).contains("attached to port responder"));
                await(guest, "ok", fail, Duration.ofSeconds(120), vnet);
                String table = vnet.run("vnet:mactable sw");
                assertTrue(table.contains("02:00:00:00:00:64") && table.contains("responder"), table);
            }
        }
    }

    /** Waits for a "VNET-PING n ok|fail" console line with n after {@code after}; returns n. */
    private static int await(QemuGuest guest, String outcome, int after, Duration limit, VnetRuntime vnet)
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
            Thread.sleep(250);
        }
        throw new TimeoutException("no ping " + outcome + " after #" + after + " within " + limit + "\nguest:\n"
                + guest.console() + "\nvnet:\n" + vnet.output());
    }
}
