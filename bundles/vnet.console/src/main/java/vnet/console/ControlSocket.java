package vnet.console;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The control socket {@code <runtime.dir>/vnet.ctl} (owner only, 0600): runtime/vnetctl sends one command line,
 * vnet runs it in a Gogo session of its own and answers with what it printed and its exit status.
 * <p>
 * Protocol (runtime/VnetCtl.java speaks the other side): the client writes the command in UTF-8 and shuts its
 * output down; the server answers with frames {@code [kind:1][length:4, big endian][bytes]}, kind {@link #OUT}
 * (standard output), {@link #ERR} (standard error) or {@link #EXIT} (4 bytes: the status, 0 or
 * {@link ExitCodes#COMMAND_FAILED}), which is the last frame.
 */
final class ControlSocket implements AutoCloseable {
    static final String FILE = "vnet.ctl";
    static final byte OUT = 1;
    static final byte ERR = 2;
    static final byte EXIT = 3;
    /** Longest command line accepted. */
    static final int MAX_REQUEST = 64 * 1024;

    private final BundleContext context;
    private final Path path;
    private final ServerSocketChannel server;
    private final Errors errors;
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;

    private ControlSocket(BundleContext context, Path path, ServerSocketChannel server, Errors errors) {
        this.context = context;
        this.path = path;
        this.server = server;
        this.errors = errors;
        this.acceptor = new Thread(this::accept, "vnet-control-socket");
        acceptor.setDaemon(true);
    }

    static Path path(Path runtimeDir) {
        return runtimeDir.resolve(FILE);
    }

    /** Whether a vnet answers on the control socket of {@code runtimeDir}. */
    static boolean answers(Path runtimeDir) {
        Path p = path(runtimeDir);
        if (!Files.exists(p)) {
            return false;
        }
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(p))) {
            return true;
        } catch (IOException stale) {
            return false;
        }
    }

    /**
     * Binds the socket. It is bound in a fresh 0700 folder, made 0600, then renamed into place, so that it is never
     * reachable by others, whatever the umask.
     */
    static ControlSocket open(BundleContext context, Path runtimeDir, Errors errors) throws IOException {
        Files.createDirectories(runtimeDir);
        Path target = path(runtimeDir);
        Files.deleteIfExists(target); // stale: answers() found nobody behind it
        Path tmpDir = Files.createTempDirectory(runtimeDir, ".ctl-");
        Path tmp = tmpDir.resolve(FILE);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(tmp);
            throw e;
        } finally {
            Files.deleteIfExists(tmpDir);
        }
        ControlSocket s = new ControlSocket(context, target, server, errors);
        s.acceptor.start();
        return s;
    }

    private void accept() {
        while (server.isOpen()) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException closed) {
                return;
            } catch (IOException e) {
                continue;
            }
            clients.add(c);
            Thread t = new Thread(() -> serve(c), "vnet-control-client");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(SocketChannel c) {
        try (c) {
            String command = readRequest(c);
            CommandProcessor processor = processor();
            if (processor == null) {
                frame(c, ERR, "error: the Gogo runtime is not running\n".getBytes(StandardCharsets.UTF_8));
                exit(c, ExitCodes.COMMAND_FAILED);
                return;
            }
            PrintStream out = new PrintStream(new FrameStream(c, OUT), true, StandardCharsets.UTF_8);
            PrintStream err = new PrintStream(new FrameStream(c, ERR), true, StandardCharsets.UTF_8);
            CommandSession session = processor.createSession(java.io.InputStream.nullInputStream(), out, err);
            int status = ExitCodes.OK;
            try {
                Object result = session.execute(command);
                if (result != null) {
                    out.println(session.format(result, Converter.INSPECT));
                }
            } catch (Exception e) {
                err.println(errors.failed("(control socket) " + command, e));
                status = ExitCodes.COMMAND_FAILED;
            } finally {
                out.flush();
                err.flush();
                session.close();
            }
            exit(c, status);
        } catch (IOException gone) {
            // the client went away
        } finally {
            clients.remove(c);
        }
    }

    private CommandProcessor processor() {
        ServiceReference<CommandProcessor> ref = context.getServiceReference(CommandProcessor.class);
        return ref == null ? null : context.getService(ref);
    }

    private static String readRequest(SocketChannel c) throws IOException {
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(4096);
        while (c.read(b) >= 0) {
            b.flip();
            request.write(b.array(), 0, b.limit());
            b.clear();
            if (request.size() > MAX_REQUEST) {
                throw new IOException("request longer than " + MAX_REQUEST + " bytes");
            }
        }
        return request.toString(StandardCharsets.UTF_8).strip();
    }

    private static void exit(SocketChannel c, int status) throws IOException {
        frame(c, EXIT, ByteBuffer.allocate(4).putInt(status).array());
    }

    static void frame(SocketChannel c, byte kind, byte[] bytes) throws IOException {
        frame(c, kind, bytes, 0, bytes.length);
    }

    static void frame(SocketChannel c, byte kind, byte[] bytes, int off, int len) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(5 + len);
        b.put(kind).putInt(len).put(bytes, off, len).flip();
        synchronized (c) {
            while (b.hasRemaining()) {
                c.write(b);
            }
        }
    }

    /** Each write becomes one frame of its kind. */
    private static final class FrameStream extends OutputStream {
        private final SocketChannel channel;
        private final byte kind;

        FrameStream(SocketChannel channel, byte kind) {
            this.channel = channel;
            this.kind = kind;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > 0) {
                frame(channel, kind, b, off, len);
            }
        }
    }

    /** Closes the socket and its connections and removes the file. */
    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        // A command that is running (vnet:exit itself) gets a moment to send its answer.
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (!clients.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (SocketChannel c : clients) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
