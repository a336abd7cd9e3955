package vnet.peer;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.Checksums;
import vnet.virtio.net.FrameBuffer;

/**
 * A stand-in guest for tests without QEMU: a {@link VhostUserFrontend} (the driver side of a virtio-net NIC) that
 * answers ARP requests and ICMP echo requests for its IPv4 address, on a thread of its own, and counts what it saw.
 */
final class JavaGuest implements AutoCloseable {
    private final VhostUserFrontend nic;
    private final byte[] mac;
    private final byte[] ip;
    private final Thread thread;
    private volatile boolean running = true;
    volatile long framesReceived;
    volatile long arpReplies;
    volatile long echoReplies;
    volatile String failure;

    private JavaGuest(VhostUserFrontend nic, byte[] mac, byte[] ip) {
        this.nic = nic;
        this.mac = mac;
        this.ip = ip;
        this.thread = new Thread(this::run, "java-guest");
        thread.setDaemon(true);
    }

    /** Connects to the back-end at {@code socket} and answers for {@code ip} (dotted quad) with {@code mac}. */
    static JavaGuest connect(Path socket, VhostUserFrontend.Options options, long mac, String ip) throws IOException {
        byte[] m = new byte[6];
        for (int i = 0; i < 6; i++) {
            m[i] = (byte) (mac >>> (40 - 8 * i));
        }
        String[] q = ip.split("\\.");
        byte[] a = new byte[4];
        for (int i = 0; i < 4; i++) {
            a[i] = (byte) Integer.parseInt(q[i]);
        }
        JavaGuest g = new JavaGuest(VhostUserFrontend.connect(socket, options), m, a);
        g.thread.start();
        return g;
    }

    VhostUserFrontend nic() {
        return nic;
    }

    private void run() {
        FrameBuffer in = new FrameBuffer();
        byte[] f = new byte[FrameBuffer.DEFAULT_CAPACITY];
        try {
            while (running) {
                if (!nic.receive(in, Duration.ofMillis(200))) {
                    continue;
                }
                framesReceived++;
                int n = in.copyTo(f, 0);
                int type = u16(f, 12);
                if (type == 0x0806 && n >= 42 && u16(f, 20) == 1 && equal(f, 38, ip)) {
                    answerArp(f);
                } else if (type == 0x0800 && n >= 42 && (f[14] & 0xF0) == 0x40 && f[23] == 1 && equal(f, 30, ip)) {
                    int ihl = (f[14] & 0x0F) * 4;
                    int total = u16(f, 16);
                    if (f[14 + ihl] == 8 && 14 + total <= n) {
                        answerEcho(f, ihl, total);
                    }
                }
            }
        } catch (IOException e) {
            if (running) {
                failure = e.toString();
            }
        }
    }

    private void answerArp(byte[] f) throws IOException {
        byte[] r = new byte[42];
        System.arraycopy(f, 6, r, 0, 6); // to the requester
        System.arraycopy(mac, 0, r, 6, 6);
        r[12] = 0x08;
        r[13] = 0x06;
        System.arraycopy(f, 14, r, 14, 6); // htype, ptype, hlen, plen
        r[21] = 2; // reply
        System.arraycopy(mac, 0, r, 22, 6);
        System.arraycopy(ip, 0, r, 28, 4);
        System.arraycopy(f, 22, r, 32, 10); // their sha and spa become tha and tpa
        if (nic.send(r, 0, r.length)) {
            arpReplies++;
        }
    }

    private void answerEcho(byte[] f, int ihl, int total) throws IOException {
        byte[] r = new byte[14 + total];
        System.arraycopy(f, 0, r, 0, r.length);
        System.arraycopy(f, 6, r, 0, 6);
        System.arraycopy(mac, 0, r, 6, 6);
        System.arraycopy(f, 30, r, 26, 4); // source = their destination (us)
        System.arraycopy(f, 26, r, 30, 4);
        r[22] = 64; // ttl
        r[24] = 0;
        r[25] = 0;
        int ipSum = Checksums.checksum(r, 14, ihl);
        r[24] = (byte) (ipSum >>> 8);
        r[25] = (byte) ipSum;
        int icmp = 14 + ihl;
        r[icmp] = 0; // echo reply
        r[icmp + 2] = 0;
        r[icmp + 3] = 0;
        int sum = Checksums.checksum(r, icmp, total - ihl);
        r[icmp + 2] = (byte) (sum >>> 8);
        r[icmp + 3] = (byte) sum;
        if (nic.send(r, 0, r.length)) {
            echoReplies++;
        }
    }

    private static int u16(byte[] b, int at) {
        return (b[at] & 0xFF) << 8 | (b[at + 1] & 0xFF);
    }

    private static boolean equal(byte[] b, int at, byte[] what) {
        for (int i = 0; i < what.length; i++) {
            if (b[at + i] != what[i]) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        running = false;
        nic.close();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "JavaGuest[received " + framesReceived + ", arp replies " + arpReplies + ", echo replies " + echoReplies
                + (failure == null ? "" : ", failed: " + failure) + ", " + nic + "]";
    }
}
