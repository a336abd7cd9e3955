package vnet.virtio.net.bench;

import java.util.concurrent.TimeUnit;

import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import vnet.virtio.net.Features;
import vnet.virtio.net.FrameBuffer;
import vnet.virtio.net.NetDevice;
import vnet.virtio.net.NetDriver;
import vnet.virtio.net.SharedPair;
import vnet.virtio.net.VirtioNetHeader;
import vnet.virtqueue.DescriptorChain;

/**
 * Frames per second through one virtio-net queue pair in loopback, on one thread: the driver sends a batch on its
 * transmit queue, the device takes each frame and delivers it into its own receive queue, the driver receives the
 * batch, harvests transmit completions and reposts receive buffers. Driver and device each use their own mapping
 * of one shared file, as a guest and a back-end would.
 *
 * <p>{@code path=bounce}: the device copies each frame into a {@link FrameBuffer}, then into receive buffers
 * (two copies); {@code path=direct}: it copies guest to guest from the transmit chain (one copy). Features:
 * VERSION_1, MRG_RXBUF, RING_EVENT_IDX (12-byte header, 1536-byte receive buffers), queue size 256.
 *
 * <p>Run: see this module's README; {@code -prof gc} adds {@code gc.alloc.rate.norm} (bytes allocated per frame).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-XX:+IgnoreUnrecognizedVMOptions", "--sun-misc-unsafe-memory-access=allow"})
public class LoopbackBenchmark {

    /** Frames per benchmark invocation. */
    public static final int BATCH = 32;

    /** Ethernet frame size in bytes. */
    @Param({"64", "1500"})
    public int frameSize;

    /** Ring layout. */
    @Param({"split", "packed"})
    public String ring;

    /** How the device moves a frame from TX to RX. */
    @Param({"bounce", "direct"})
    public String path;

    private SharedPair pair;
    private NetDriver driver;
    private NetDevice device;
    private boolean direct;
    private final VirtioNetHeader txHeader = new VirtioNetHeader();
    private final VirtioNetHeader devHeader = new VirtioNetHeader();
    private final DescriptorChain chain = new DescriptorChain();
    private final FrameBuffer devFrame = new FrameBuffer(2048);
    private final FrameBuffer rxFrame = new FrameBuffer(2048);
    private UnsafeBuffer payload;

    /**
     * Builds the pair and fills the receive queue.
     *
     * @throws Exception if the shared file cannot be mapped
     */
    @Setup(Level.Trial)
    public void setUp() throws Exception {
        long features = Features.VERSION_1 | Features.MRG_RXBUF | Features.RING_EVENT_IDX;
        pair = SharedPair.create("packed".equals(ring), features, 256, 1536, 1, false, 2048);
        driver = pair.driver;
        device = pair.device;
        direct = "direct".equals(path);
        byte[] f = new byte[frameSize];
        for (int i = 0; i < f.length; i++) {
            f[i] = (byte) i;
        }
        payload = new UnsafeBuffer(f);
        driver.postRxBuffers();
        driver.kickRx();
    }

    /**
     * Removes the shared file.
     *
     * @throws Exception if it cannot be deleted
     */
    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        pair.close();
    }

    /**
     * One batch of {@link #BATCH} frames, driver to device to driver.
     *
     * @return frames received (consumed by JMH)
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int loopback() {
        NetDriver drv = driver;
        NetDevice dev = device;
        for (int i = 0; i < BATCH; i++) {
            if (!drv.send(txHeader, payload, 0, frameSize)) {
                throw new IllegalStateException("transmit ring full");
            }
        }
        drv.kickTx();
        if (direct) {
            int len;
            while ((len = dev.pollTx(chain, devHeader)) >= 0) {
                dev.deliverToRx(devHeader, chain, dev.headerSize(), len);
                dev.completeTx(chain);
            }
        } else {
            while (dev.pollTx(devFrame) >= 0) {
                dev.deliverToRx(devFrame);
            }
        }
        dev.flushTx();
        dev.flushRx();
        int n = 0;
        while (drv.receive(rxFrame) >= 0) {
            n++;
        }
        if (n != BATCH) {
            throw new IllegalStateException("received " + n + " of " + BATCH + ": " + dev.stats());
        }
        drv.harvestTx();
        drv.postRxBuffers();
        drv.kickRx();
        return n;
    }
}
