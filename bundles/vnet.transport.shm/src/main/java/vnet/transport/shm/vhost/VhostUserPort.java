package vnet.transport.shm.vhost;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import vnet.linux.UnixSocket;
import vnet.transport.shm.DataPath;
import vnet.transport.shm.DevicePort;
import vnet.transport.shm.DeviceSnapshot;
import vnet.transport.shm.PortSettings;

/**
 * A vnet port reachable over vhost-user at a Unix socket path. In server mode vnet listens and serves one
 * front-end at a time (the next one may connect when it leaves); in client mode vnet connects to a
 * listening front-end (QEMU {@code server=on}, DPDK {@code client=1}) and keeps reconnecting. One control
 * thread per port; the frames go through {@link #device()} on the data path's thread.
 */
public final class VhostUserPort implements DevicePort, AutoCloseable {
    private static final Logger LOG = System.getLogger(VhostUserPort.class.getName());

    /** How vnet reaches the front-end. */
    public enum Mode { SERVER, CLIENT }

    private final Path socketPath;
    private final Mode mode;
    private final Duration reconnectDelay;
    private final VhostUserBackend backend;
    private final Thread thread;
    private volatile boolean closed;
    private volatile UnixSocket listener;
    private volatile VhostUserConnection connection;
    private volatile String lastCloseReason;
    private volatile int connections;

    private VhostUserPort(String name, Path socketPath, Mode mode, PortSettings settings, Duration reconnectDelay) throws IOException {
        this.socketPath = socketPath;
        this.mode = mode;
        this.reconnectDelay = reconnectDelay;
        this.backend = new VhostUserBackend(name, settings);
        backend.onFailure(this::fail);
        if (mode == Mode.SERVER) {
            Files.createDirectories(socketPath.toAbsolutePath().getParent());
            listener = UnixSocket.listen(socketPath, 1);
        }
        thread = new Thread(this::serve, "vnet-vhost-user-" + name);
        thread.setDaemon(true);
    }

    /** A port that listens at {@code socketPath} (a stale socket file there is replaced). */
    public static VhostUserPort listen(String name, Path socketPath, PortSettings settings) throws IOException {
        VhostUserPort port = new VhostUserPort(name, socketPath, Mode.SERVER, settings, Duration.ZERO);
        port.thread.start();
        return port;
    }

    /** A port that connects to a front-end listening at {@code socketPath}, retrying every {@code reconnectDelay}. */
    public static VhostUserPort connect(String name, Path socketPath, PortSettings settings, Duration reconnectDelay)
            throws IOException {
        VhostUserPort port = new VhostUserPort(name, socketPath, Mode.CLIENT, settings, reconnectDelay);
        port.thread.start();
        return port;
    }

    @Override
    public String name() {
        return backend.name();
    }

    public Path socketPath() {
        return socketPath;
    }

    public Mode mode() {
        return mode;
    }

    public VhostUserBackend backend() {
        return backend;
    }

    /** The running device for the data path, or null. */
    @Override
    public DeviceSnapshot device() {
        return backend.device();
    }

    /** Binds this port to the worker that forwards its frames. */
    @Override
    public void setDataPath(DataPath dataPath) {
        backend.setDataPath(dataPath);
    }

    /** Null while the running device's memory is intact, else which region is not (lock-free, for the worker). */
    public String memoryFault() {
        return backend.memoryFault();
    }

    /**
     * Breaks the current connection with {@code reason} (logged as its close reason); the port then accepts (or
     * connects to) the next front-end. Never blocks: the socket is shut down and the connection thread cleans up.
     */
    public void fail(String reason) {
        VhostUserConnection c = connection;
        if (c != null) {
            c.close(reason);
        }
    }

    /** Whether a front-end is connected now. */
    public boolean isConnected() {
        return connection != null;
    }

    /** How many front-end connections this port has served (counting the current one). */
    public int connections() {
        return connections;
    }

    /** Why the last connection ended, or null. */
    public String lastCloseReason() {
        return lastCloseReason;
    }

    private void serve() {
        while (!closed) {
            UnixSocket socket;
            try {
                socket = mode == Mode.SERVER ? listener.accept() : UnixSocket.connect(socketPath);
            } catch (IOException e) {
                if (closed) {
                    break;
                }
                if (mode == Mode.SERVER) {
                    LOG.log(Level.ERROR, "vhost-user {0}: accept failed: {1}", name(), e.getMessage());
                }
                sleep(mode == Mode.SERVER ? Duration.ofMillis(100) : reconnectDelay);
                continue;
            }
            VhostUserConnection c = new VhostUserConnection(socket, backend);
            connection = c;
            connections++;
            if (closed) {
                c.close();
            }
            try {
                c.run();
            } catch (Throwable t) { // nothing may end the port's thread: the next front-end must find it serving
                LOG.log(Level.ERROR, "vhost-user " + name() + ": connection thread failed", t);
            }
            connection = null;
            lastCloseReason = c.closeReason();
            if (mode == Mode.CLIENT && !closed) {
                sleep(reconnectDelay);
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(Math.max(1, d.toMillis()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Disconnects the front-end, stops listening and removes the socket file (server mode). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        VhostUserConnection c = connection;
        if (c != null) {
            c.close();
        }
        UnixSocket l = listener;
        if (l != null) {
            try {
                l.shutdown(UnixSocket.SHUT_RDWR); // wakes accept()
            } catch (IOException e) {
                // not connected: closing is enough
            }
        }
        thread.interrupt();
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (l != null) {
            l.close(); // only now: the serving thread no longer uses the descriptor
        }
        if (mode == Mode.SERVER) {
            try {
                Files.deleteIfExists(socketPath);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "vhost-user {0}: cannot remove {1}: {2}", name(), socketPath, e.getMessage());
            }
        }
    }
}
