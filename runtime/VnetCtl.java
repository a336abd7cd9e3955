import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The client of a running vnet's control socket, {@code <runtime dir>/vnet.ctl} (run by runtime/vnetctl:
 * {@code java VnetCtl.java [--runtime-dir <dir>] <command...>}). Sends the command, prints what it printed (its
 * standard output and error), exits with its status. The protocol is the server's, vnet.console's ControlSocket:
 * request = the command in UTF-8, then end of output; answer = frames [kind:1][length:4][bytes], kind 1 stdout,
 * 2 stderr, 3 exit status (4 bytes, last).
 * <p>
 * Exit codes: the command's (0 ok, 1 it failed), 2 usage, 3 no vnet answers (or it went away mid-answer).
 */
public final class VnetCtl {
    /**
     * vnet's default runtime folder. This file runs on its own (a source launch, no classpath), so it cannot import
     * vnet.switching's FabricSettings.DEFAULT_RUNTIME_DIR; vnet.console's RuntimeDirDefaultTest checks the two agree.
     */
    static final String DEFAULT_RUNTIME_DIR = "/tmp/vnet";

    public static void main(String[] argv) throws IOException {
        String dir = System.getenv().getOrDefault("VNET_RUNTIME_DIR", DEFAULT_RUNTIME_DIR);
        int first = 0;
        if (argv.length >= 2 && argv[0].equals("--runtime-dir")) {
            dir = argv[1];
            first = 2;
        }
        if (argv.length == first || argv[first].equals("--help") || argv[first].equals("-h")) {
            System.err.println("usage: vnetctl [--runtime-dir <dir>] <command...>   e.g. vnetctl vnet:list"
                    + " (runs it in the vnet whose runtime folder is <dir>, default $VNET_RUNTIME_DIR or " + DEFAULT_RUNTIME_DIR + ")");
            System.exit(argv.length == first ? 2 : 0);
        }
        String command = String.join(" ", java.util.Arrays.asList(argv).subList(first, argv.length));
        Path socket = Path.of(dir, "vnet.ctl");
        SocketChannel c;
        try {
            c = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            System.err.println("vnetctl: no vnet answers on " + socket + (Files.exists(socket) ? " (" + e.getMessage()
                    + ")" : " (no such socket: start java -jar runtime/target/vnet.jar, or give --runtime-dir)"));
            System.exit(3);
            return;
        }
        try (c) {
            ByteBuffer request = ByteBuffer.wrap(command.getBytes(StandardCharsets.UTF_8));
            while (request.hasRemaining()) {
                c.write(request);
            }
            c.shutdownOutput();
            InputStream in = Channels.newInputStream(c);
            DataInputStream frames = new DataInputStream(in);
            while (true) {
                int kind = frames.readUnsignedByte();
                byte[] body = new byte[frames.readInt()];
                frames.readFully(body);
                switch (kind) {
                    case 1 -> System.out.write(body);
                    case 2 -> System.err.write(body);
                    case 3 -> {
                        System.out.flush();
                        System.err.flush();
                        System.exit(ByteBuffer.wrap(body).getInt());
                    }
                    default -> throw new IOException("unknown frame kind " + kind);
                }
            }
        } catch (EOFException e) {
            System.out.flush();
            System.err.println("vnetctl: vnet closed the connection before the command's status");
            System.exit(3);
        }
    }
}
