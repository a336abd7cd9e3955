package vnet.systemtest;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import vnet.testing.ExternalProcess;

/**
 * A fresh Apache Karaf unpacked from the distribution the build downloaded, set up for a test: the karaf
 * user for {@code bin/client}, free SSH and RMI ports, a free HTTP port on 127.0.0.1 for pax-web (once a feature
 * installs it), {@code vnet.runtime.dir}, and a Maven repository
 * folder holding this build's vnet bundles ahead of every other (so Karaf installs what was just built, not
 * an older snapshot from ~/.m2). Runs on JDK 17 ({@code bin/karaf server}); stopped by PID.
 */
final class Karaf implements AutoCloseable {
    /** Karaf 4.4 does not run on JDK 24+. */
    static final Path JDK17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

    private final Path home;
    private final int sshPort;
    private final int httpPort;
    private final String javaHome;
    private ExternalProcess process;

    private Karaf(Path home, int sshPort, int httpPort, String javaHome) {
        this.home = home;
        this.sshPort = sshPort;
        this.httpPort = httpPort;
        this.javaHome = javaHome;
    }

    /** Unpacks Karaf into {@code dir} and configures it; {@code runtimeDir} is where vnet puts its sockets. */
    static Karaf unpack(Path dir, Path runtimeDir) throws IOException {
        Path archive = Path.of(System.getProperty("vnet.karaf.archive", "target/karaf/apache-karaf-4.4.10.tar.gz"));
        if (!Files.isRegularFile(archive)) {
            throw new IllegalStateException(archive + " is missing (the build's dependency:copy puts it there)");
        }
        ExternalProcess.run(Duration.ofMinutes(2), "tar", "xzf", archive.toString(), "-C", dir.toString());
        Path home;
        try (var s = Files.list(dir)) {
            home = s.filter(p -> p.getFileName().toString().startsWith("apache-karaf-")).findFirst().orElseThrow();
        }
        Path etc = home.resolve("etc");
        Path repo = dir.resolve("m2");
        stageBundles(repo);
        String mvn = Files.readString(etc.resolve("org.ops4j.pax.url.mvn.cfg"));
        mvn = mvn.replace("org.ops4j.pax.url.mvn.defaultRepositories=\\\n",
                "org.ops4j.pax.url.mvn.defaultRepositories=\\\n    " + repo.toUri() + "@id=vnet.build@snapshots, \\\n");
        Files.writeString(etc.resolve("org.ops4j.pax.url.mvn.cfg"), mvn);
        append(etc.resolve("users.properties"), "\nkaraf = karaf,_g_:admingroup,ssh,admin\n"
                + "_g_\\:admingroup = group,admin,manager,viewer,systembundles,ssh\n");
        int ssh = freePort();
        replace(etc.resolve("org.apache.karaf.shell.cfg"), "sshPort = 8101", "sshPort = " + ssh);
        replace(etc.resolve("org.apache.karaf.management.cfg"), "rmiRegistryPort = 1099", "rmiRegistryPort = " + freePort());
        replace(etc.resolve("org.apache.karaf.management.cfg"), "rmiServerPort = 44444", "rmiServerPort = " + freePort());
        append(etc.resolve("system.properties"), "\nvnet.runtime.dir = " + runtimeDir + "\n");
        // pax-web's configuration before its feature comes: the feature then keeps it (its own default is 8181 on
        // every interface).
        int http = freePort();
        Files.writeString(etc.resolve("org.ops4j.pax.web.cfg"), "org.osgi.service.http.port = " + http + "\n"
                + "org.ops4j.pax.web.listening.addresses = 127.0.0.1\n");
        String java = Files.isDirectory(JDK17) ? JDK17.toString() : System.getProperty("java.home");
        return new Karaf(home, ssh, http, java);
    }

    /** Copies this build's vnet bundles, as the features name them, into a Maven repository layout. */
    private static void stageBundles(Path repo) throws IOException {
        Matcher m = Pattern.compile("mvn:vnet/([^/<]+)/([^/<]+)</bundle>").matcher(Files.readString(Build.featuresXml()));
        Set<String> seen = new LinkedHashSet<>();
        while (m.find()) {
            String a = m.group(1);
            String v = m.group(2);
            if (seen.add(a)) {
                Path to = repo.resolve("vnet").resolve(a).resolve(v).resolve(a + "-" + v + ".jar");
                Files.createDirectories(to.getParent());
                Files.copy(Build.bundle(a), to, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    Path home() {
        return home;
    }

    /** pax-web's HTTP port, on 127.0.0.1. */
    int httpPort() {
        return httpPort;
    }

    Path etc() {
        return home.resolve("etc");
    }

    /** Starts {@code bin/karaf server} and waits until its SSH console answers. */
    Karaf start() throws IOException, InterruptedException, TimeoutException {
        process = ExternalProcess.command(home.resolve("bin/karaf").toString(), "server").name("karaf")
                .directory(home).env("JAVA_HOME", javaHome).log(home.getParent().resolve("karaf.log"))
                .timeLimit(Duration.ofMinutes(10)).start();
        // SSH may accept a session before the console is ready (the session then just closes): ask again.
        long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
        String out = "";
        while (System.nanoTime() < deadline) {
            out = client("echo karaf-ready", Duration.ofMinutes(2));
            if (out.contains("karaf-ready")) {
                return this;
            }
            Thread.sleep(2000);
        }
        throw new IOException("Karaf's console did not answer:\n" + out + "\n" + process.tail(40));
    }

    /** Runs one console command through {@code bin/client} (retrying the connection) and returns its output. */
    String client(String command) throws IOException, InterruptedException, TimeoutException {
        return client(command, Duration.ofMinutes(3));
    }

    String client(String command, Duration limit) throws IOException, InterruptedException, TimeoutException {
        // The command goes on standard input (-b): as an argument, Karaf 4.4.10 closes the session unanswered.
        Path input = Files.createTempFile(home.getParent(), "client-", ".txt");
        Files.writeString(input, command + "\n");
        try (ExternalProcess c = ExternalProcess.command("bash", "-c", "exec \"$0\" -a " + sshPort
                        + " -u karaf -p karaf -r 60 -d 2 -b < \"$1\"", home.resolve("bin/client").toString(), input.toString())
                .name("karaf-client").env("JAVA_HOME", javaHome).timeLimit(limit).start()) {
            c.waitFor(limit.plusSeconds(5));
            String out = c.output();
            Files.deleteIfExists(c.log());
            return out.substring(out.indexOf('\n') + 1);
        } finally {
            Files.deleteIfExists(input);
        }
    }

    /**
     * Types lines into an interactive console session ({@code bin/client} without {@code -b}), as an operator would,
     * then {@code logout}. Karaf's aliases apply there: its {@code help} is {@code *:help $args | more}, and
     * {@code more} prints nothing without a terminal, so batch mode cannot show {@code help}; in a session the pager
     * waits for a key, so give {@code q} after each help. Returns what the session printed, without ANSI escapes
     * and carriage returns (the console's 80 columns still wrap long lines).
     */
    String console(Duration limit, String... lines) throws IOException, InterruptedException, TimeoutException {
        Path input = Files.createTempFile(home.getParent(), "console-", ".txt");
        Files.writeString(input, String.join("\n", lines) + "\nlogout\n");
        try (ExternalProcess c = ExternalProcess.command("bash", "-c", "exec \"$0\" -a " + sshPort
                        + " -u karaf -p karaf -r 60 -d 2 < \"$1\"", home.resolve("bin/client").toString(), input.toString())
                .name("karaf-console").env("JAVA_HOME", javaHome).timeLimit(limit).start()) {
            c.waitFor(limit.plusSeconds(5));
            String out = c.output();
            Files.deleteIfExists(c.log());
            return out.replaceAll("\u001b\\[[0-9;?]*[A-Za-z]", "").replace("\r", "");
        } finally {
            Files.deleteIfExists(input);
        }
    }

    String log() {
        return process == null ? "" : process.tail(60);
    }

    /**
     * Stops Karaf by PID: SIGTERM to every process under the start script (the JVM too, which the script does
     * not forward signals to and which would outlive it), then SIGKILL to whatever is left.
     */
    @Override
    public void close() {
        if (process == null) {
            return;
        }
        List<ProcessHandle> tree = ProcessHandle.of(process.wrapperPid()).map(h -> h.descendants().toList())
                .orElse(List.of());
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (tree.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        tree.forEach(ProcessHandle::destroyForcibly);
        process.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void append(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardOpenOption.APPEND);
    }

    private static void replace(Path file, String from, String to) throws IOException {
        String s = Files.readString(file);
        if (!s.contains(from)) {
            throw new IOException(file + " has no \"" + from + "\"");
        }
        Files.writeString(file, s.replace(from, to));
    }
}
