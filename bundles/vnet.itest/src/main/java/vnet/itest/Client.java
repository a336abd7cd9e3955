package vnet.itest;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

import vnet.transport.shm.vhost.VhostUserFrontend;
import vnet.virtio.net.FrameBuffer;

/** A Java front-end (the vhost-user driver side) on a vnet port's socket. */
final class Client implements AutoCloseable {
    final String name;
    final VhostUserFrontend frontend;
    private final FrameBuffer rx = new FrameBuffer();
    private final FrameBuffer tx = new FrameBuffer();

    private Client(String name, VhostUserFrontend frontend) {
        this.name = name;
        this.frontend = frontend;
    }

    /** Connects once the port listens (the front-end retries until its timeout). */
    static Client connect(String name, Path socket) throws IOException {
        return new Client(name, VhostUserFrontend.connect(socket, VhostUserFrontend.Options.defaults().withQueueSize(64)
                .withTimeout(Duration.ofSeconds(20))));
    }

    void send(byte[] frame) throws IOException {
        tx.set(frame, 0, frame.length);
        if (!frontend.send(tx)) {
            throw new IOException(name + ": transmit ring full");
        }
    }

    byte[] receive(Duration timeout) throws IOException {
        return frontend.receive(rx, timeout) ? rx.toByteArray() : null;
    }

    byte[] expect() throws IOException {
        byte[] f = receive(Duration.ofSeconds(10));
        if (f == null) {
            throw new AssertionError(name + " received nothing within 10 s: " + frontend);
        }
        return f;
    }

    void expectNothing(long millis) throws IOException {
        byte[] f = receive(Duration.ofMillis(millis));
        if (f != null) {
            throw new AssertionError(name + " received an unexpected frame, mark " + Frames.mark(f));
        }
    }

    @Override
    public void close() {
        frontend.close();
    }
}
