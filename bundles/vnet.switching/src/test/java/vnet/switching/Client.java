package vnet.switching;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.FrameBuffer;

/** A Java front-end on a vnet port, with the few calls the tests need. */
final class Client implements AutoCloseable {
    final String name;
    final VhostUserFrontend frontend;
    private final FrameBuffer rx = new FrameBuffer();
    private final FrameBuffer tx = new FrameBuffer();

    private Client(String name, VhostUserFrontend frontend) {
        this.name = name;
        this.frontend = frontend;
    }

    static Client connect(String name, Path socket, VhostUserFrontend.Options options) throws IOException {
        return new Client(name, VhostUserFrontend.connect(socket, options));
    }

    static Client connect(String name, Path socket) throws IOException {
        return connect(name, socket, VhostUserFrontend.Options.defaults().withQueueSize(64)
                .withTimeout(Duration.ofSeconds(10)));
    }

    void send(byte[] frame) throws IOException {
        tx.set(frame, 0, frame.length);
        if (!frontend.send(tx)) {
            throw new IOException(name + ": transmit ring full");
        }
    }

    /** Sends with a header (e.g. NEEDS_CSUM). */
    FrameBuffer txBuffer() {
        return tx;
    }

    void sendPrepared() throws IOException {
        if (!frontend.send(tx)) {
            throw new IOException(name + ": transmit ring full");
        }
    }

    /** The next frame, or null if none comes within {@code timeout}. */
    byte[] receive(Duration timeout) throws IOException {
        return frontend.receive(rx, timeout) ? rx.toByteArray() : null;
    }

    /** The next frame; fails if none comes within 10 s. */
    byte[] expect() throws IOException {
        byte[] f = receive(Duration.ofSeconds(10));
        if (f == null) {
            throw new AssertionError(name + " received nothing within 10 s: " + frontend);
        }
        return f;
    }

    /** Fails if a frame comes within {@code millis}. */
    void expectNothing(long millis) throws IOException {
        byte[] f = receive(Duration.ofMillis(millis));
        if (f != null) {
            throw new AssertionError(name + " received an unexpected frame of " + f.length + " bytes, mark "
                    + Frames.mark(f) + ", vlan " + Frames.vlan(f));
        }
    }

    /** The header of the last received frame. */
    FrameBuffer lastReceived() {
        return rx;
    }

    @Override
    public void close() {
        frontend.close();
    }
}
