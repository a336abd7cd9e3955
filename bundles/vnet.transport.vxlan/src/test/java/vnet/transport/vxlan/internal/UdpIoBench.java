package vnet.transport.vxlan.internal;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import vnet.linux.DatagramBatch;
import vnet.linux.UdpSocket;

/**
 * What the tunnel's UDP I/O costs per datagram, batched through vnet.linux ({@code recvmmsg}/{@code sendmmsg}, 32
 * a call) against a {@code DatagramChannel} with direct buffers (one system call per datagram): CPU time of the
 * receiving or sending thread divided by datagrams, which holds up on a busy machine better than rates do. Inside
 * namespace vx-io on its loopback. A benchmark: runs only with {@code -Dvnet.vxlan.bench=true}.
 */
@EnabledIfSystemProperty(named = "vnet.vxlan.bench", matches = "true")
class UdpIoBench {
    private static final int LOOPBACK = 0x7F00_0001;
    private static final long SECONDS = 3;

    @Test
    void cpuTimePerDatagram() throws Exception {
        try (Netns ns = Netns.create("vx-io")) {
            for (int size : new int[] {64 + 16, 1400 + 16}) {
                ns.call(() -> {
                    receive(size, false);
                    receive(size, true);
                    send(size, false);
                    send(size, true);
                    return null;
                });
            }
        }
    }

    /** A DatagramChannel floods a port; the receiver is a DatagramChannel or a UdpSocket with recvmmsg. */
    private static void receive(int size, boolean batched) throws Exception {
        AtomicBoolean on = new AtomicBoolean(true);
        DatagramChannel in = batched ? null : DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        UdpSocket udp = batched ? UdpSocket.bind(LOOPBACK, 47890) : null;
        int port = batched ? 47890 : ((InetSocketAddress) in.getLocalAddress()).getPort();
        Thread sender = new Thread(() -> {
            try (DatagramChannel out = DatagramChannel.open()) {
                ByteBuffer b = ByteBuffer.allocateDirect(size);
                InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
                while (on.get()) {
                    b.clear();
                    out.send(b, to);
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        sender.start();
        long count = 0;
        long cpu0 = cpu();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
        if (batched) {
            DatagramBatch batch = new DatagramBatch(32);
            UnsafeBuffer area = new UnsafeBuffer(ByteBuffer.allocateDirect(32 * 2048));
            for (int i = 0; i < 32; i++) {
                batch.buffer(i, area.addressOffset() + i * 2048L, 2048);
            }
            try (vnet.linux.Epoll epoll = vnet.linux.Epoll.create(1)) {
                epoll.add(udp.fd(), vnet.linux.Epoll.EPOLLIN, 0);
                while (System.nanoTime() < end) {
                    int n = udp.receive(batch, 32);
                    if (n == 0) {
                        epoll.epollWait(100); // as the tunnel's thread sleeps
                    }
                    count += n;
                }
            }
            udp.close();
        } else {
            ByteBuffer b = ByteBuffer.allocateDirect(2048); // blocking: sleeps when there is nothing
            while (System.nanoTime() < end) {
                b.clear();
                if (in.receive(b) != null) {
                    count++;
                }
            }
        }
        long cpu = cpu() - cpu0;
        on.set(false);
        sender.join();
        if (in != null) {
            in.close();
        }
        System.out.printf("UDP-BENCH receive %4d B %-28s %8d datagrams/s  %6.0f ns CPU each%n", size,
                batched ? "recvmmsg x32 (vnet.linux)" : "DatagramChannel.receive", count / SECONDS, (double) cpu / count);
    }

    /** The sender is a DatagramChannel, or the tunnel's raw socket with sendmmsg; a UDP socket takes them unread. */
    private static void send(int size, boolean batched) throws Exception {
        try (DatagramChannel sink = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            int port = ((InetSocketAddress) sink.getLocalAddress()).getPort();
            long count = 0;
            long cpu0 = cpu();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            if (batched) {
                try (UdpSocket raw = UdpSocket.rawSender(LOOPBACK)) {
                    DatagramBatch batch = new DatagramBatch(32);
                    UnsafeBuffer area = new UnsafeBuffer(ByteBuffer.allocateDirect(size));
                    Vxlan.writeUdpHeader(area, 0, 40000, port, size);
                    for (int i = 0; i < 32; i++) {
                        batch.buffer(i, area.addressOffset(), size);
                        batch.destination(i, LOOPBACK, 0);
                    }
                    while (System.nanoTime() < end) {
                        int n = raw.send(batch, 0, 32);
                        count += Math.max(n, 0);
                    }
                }
            } else {
                try (DatagramChannel out = DatagramChannel.open()) {
                    ByteBuffer b = ByteBuffer.allocateDirect(size - 8);
                    InetSocketAddress to = new InetSocketAddress("127.0.0.1", port);
                    while (System.nanoTime() < end) {
                        b.clear();
                        out.send(b, to);
                        count++;
                    }
                }
            }
            long cpu = cpu() - cpu0;
            System.out.printf("UDP-BENCH send    %4d B %-28s %8d datagrams/s  %6.0f ns CPU each%n", size,
                    batched ? "raw sendmmsg x32 (vnet.linux)" : "DatagramChannel.send", count / SECONDS, (double) cpu / count);
        }
    }

    private static long cpu() {
        return ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }
}
