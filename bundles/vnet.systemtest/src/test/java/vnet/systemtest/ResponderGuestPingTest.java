package vnet.systemtest;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
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

            String script = GuestPings.script("192.0.2.100", 400, "0.5");
            try (QemuGuest guest = QemuGuest.builder("g").workDir(dir.path())
                    .qemuArgs(nic.group(1).trim().split(" +")).ip("192.0.2.1/24").command(script)
                    .timeLimit(Duration.ofMinutes(6)).start()) {
                int ok = GuestPings.await(guest, "ok", 0, Duration.ofMinutes(3), vnet);
                assertTrue(vnet.run("stop " + id.group(1)).contains("detached from port responder"));
                int fail = GuestPings.await(guest, "fail", ok, Duration.ofSeconds(90), vnet);
                assertTrue(vnet.run("start " + id.group(1)).contains("attached to port responder"));
                GuestPings.await(guest, "ok", fail, Duration.ofSeconds(120), vnet);
                String table = vnet.run("vnet:mactable sw");
                assertTrue(table.contains("02:00:00:00:00:64") && table.contains("responder"), table);
            }
        }
    }
}
