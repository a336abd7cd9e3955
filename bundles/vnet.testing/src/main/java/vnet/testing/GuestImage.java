package vnet.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/**
 * The guest kernel and initramfs built by {@code build-guest.sh} (a classpath resource), once per JVM.
 * The cache folder is {@code VNET_GUEST_DIR} (system property, then environment), default /var/tmp/vnet-guest.
 * The script also installs QEMU.
 */
public final class GuestImage {

    public static final String DIR_PROPERTY = "VNET_GUEST_DIR";
    public static final Path DEFAULT_DIR = Path.of("/var/tmp/vnet-guest");
    private static final Duration BUILD_LIMIT = Duration.ofMinutes(20);

    private static GuestImage instance;

    private final Path dir;

    private GuestImage(Path dir) {
        this.dir = dir;
    }

    /** Builds the image if needed (first call in a JVM runs the script; it is a no-op when cached). */
    public static synchronized GuestImage get() throws IOException {
        if (instance == null) {
            Path dir = cacheDir();
            build(dir);
            instance = new GuestImage(dir);
        }
        return instance;
    }

    /** The cache folder from {@code VNET_GUEST_DIR}, or the default. */
    public static Path cacheDir() {
        String d = System.getProperty(DIR_PROPERTY);
        if (d == null || d.isBlank()) {
            d = System.getenv(DIR_PROPERTY);
        }
        return d == null || d.isBlank() ? DEFAULT_DIR : Path.of(d);
    }

    private static void build(Path dir) throws IOException {
        Path script = Files.createTempFile("vnet-build-guest-", ".sh");
        try {
            try (InputStream in = GuestImage.class.getResourceAsStream("build-guest.sh")) {
                if (in == null) {
                    throw new IOException("resource vnet/testing/build-guest.sh missing");
                }
                Files.copy(in, script, StandardCopyOption.REPLACE_EXISTING);
            }
            try (ExternalProcess p = ExternalProcess.command("bash", script.toString(), dir.toString())
                    .name("build-guest").timeLimit(BUILD_LIMIT).start()) {
                int rc = p.waitFor(BUILD_LIMIT.plusSeconds(10));
                String out = p.output();
                Files.deleteIfExists(p.log());
                if (rc != 0) {
                    throw new IOException("build-guest.sh " + dir + " failed (exit " + rc + "):\n" + out);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while building the guest image", e);
        } catch (TimeoutException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            Files.deleteIfExists(script);
        }
    }

    public Path dir() {
        return dir;
    }

    public Path kernel() {
        return dir.resolve("vmlinuz");
    }

    public Path initrd() {
        return dir.resolve("initrd.gz");
    }
}
