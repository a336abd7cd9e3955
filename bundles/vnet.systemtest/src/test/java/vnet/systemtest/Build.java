package vnet.systemtest;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the reactor put what the system tests start (each module's target/). */
final class Build {
    private Build() {
    }

    static Path root() {
        try {
            return Path.of(System.getProperty("vnet.root", "../..")).toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String version() {
        return System.getProperty("vnet.version", "0.1.0-SNAPSHOT");
    }

    /** The executable runtime jar. */
    static Path runtimeJar() {
        return existing(root().resolve("runtime/target/vnet.jar"));
    }

    /** A bundle module's jar, e.g. {@code vnet.example.responder}. */
    static Path bundle(String artifactId) {
        return existing(root().resolve("bundles").resolve(artifactId).resolve("target")
                .resolve(artifactId + "-" + version() + ".jar"));
    }

    /** The Karaf features repository with the versions filled in. */
    static Path featuresXml() {
        return existing(root().resolve("features/target/features.xml"));
    }

    /** The Java of this JVM, to start the runtime with. */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static Path existing(Path p) {
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(p + " is missing: build the reactor first (./mvnw -B verify)");
        }
        return p;
    }
}
