package vnet.transport.shm.inproc;

import java.util.concurrent.TimeUnit;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The driver side of an in-framework port, as its client holds it: Ethernet frames (no virtio header) in
 * and out. Methods are safe to call from any thread; {@link #close()} waits for a call in progress. After
 * close, or once the port goes away, {@link #send} returns false, {@link #receive} returns {@link #NONE} and
 * {@link #await} returns false at once.
 */
public interface Endpoint extends AutoCloseable {
    /** {@link #receive} result: no frame. */
    int NONE = -1;

    /** The port's name. */
    String portName();

    /** The port's configured MAC (48 bits), or -1 if none. */
    long mac();

    /** Largest frame {@link #send} accepts, in bytes. */
    int maxFrameLength();

    /** Queues a frame and notifies vnet; false if the transmit ring is full or the endpoint is closed. */
    boolean send(DirectBuffer frame, int offset, int length);

    /** Queues a frame from a byte array; see {@link #send(DirectBuffer, int, int)}. */
    boolean send(byte[] frame, int offset, int length);

    /**
     * Takes the next received frame into {@code dst} at {@code offset}.
     *
     * @return the frame length, or {@link #NONE}; a frame longer than the room in {@code dst} is dropped and
     *         counted, and the next one is returned
     */
    int receive(MutableDirectBuffer dst, int offset);

    /** Takes the next received frame into a byte array; see {@link #receive(MutableDirectBuffer, int)}. */
    int receive(byte[] dst, int offset);

    /**
     * Waits until a frame may have arrived, at most {@code timeout}.
     *
     * @return true if {@link #receive} should be called; false on timeout or when closed
     */
    boolean await(long timeout, TimeUnit unit) throws InterruptedException;

    /** Whether the endpoint is still attached. */
    boolean isOpen();

    /** Frames received so far. */
    long rxFrames();

    /** Frames sent so far. */
    long txFrames();

    /** Frames dropped at receive (too long for the caller's buffer, or malformed). */
    long rxDrops();

    /** Detaches: the device stops and the port's memory is released. Idempotent. */
    @Override
    void close();
}
