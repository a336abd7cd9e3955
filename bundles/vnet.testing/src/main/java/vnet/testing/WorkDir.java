package vnet.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A temporary folder removed with everything in it by {@link #close()}. Its path is short (under /tmp), since
 * Unix socket paths are limited to 107 bytes. With {@code -Dvnet.keepWorkDir=true} or the
 * environment variable {@code VNET_KEEP_WORKDIR=true} it is kept (for the logs).
 */
public final class WorkDir implements AutoCloseable {

    private final Path path;

    private WorkDir(Path path) {
        this.path = path;
    }

    public static WorkDir create(String prefix) throws IOException {
        return new WorkDir(Files.createTempDirectory(Path.of("/tmp"), prefix));
    }

    public Path path() {
        return path;
    }

    public Path resolve(String name) {
        return path.resolve(name);
    }

    @Override
    public void close() {
        if (Boolean.getBoolean("vnet.keepWorkDir") || "true".equals(System.getenv("VNET_KEEP_WORKDIR"))) {
            System.err.println("vnet.keepWorkDir: keeping " + path);
            return;
        }
        deleteTree(path);
    }

    /** Deletes a folder tree, best effort. */
    public static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return path.toString();
    }
}
