package vnet.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Installs Debian packages on demand (needs root): {@code apt-get install}, with one {@code apt-get update} if that fails. */
public final class Apt {

    private static final Duration LIMIT = Duration.ofMinutes(15);

    private Apt() {
    }

    /** Installs those of {@code packages} that are not installed yet. */
    public static synchronized void install(String... packages) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String p : packages) {
            if (!installed(p)) {
                missing.add(p);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String list = String.join(" ", missing);
        String apt = "apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=2 -q -y ";
        ExternalProcess.run(LIMIT, "env", "DEBIAN_FRONTEND=noninteractive", "bash", "-c",
                apt + "install --no-install-recommends " + list
                        + " || { " + apt + "update && " + apt + "install --no-install-recommends " + list + "; }");
    }

    /** Whether a package is installed. */
    public static boolean installed(String pkg) throws IOException {
        try {
            String status = ExternalProcess.run(Duration.ofSeconds(30), "dpkg-query", "-W", "-f=${Status}", pkg);
            return status.contains("ok installed");
        } catch (IOException notInstalled) {
            return false;
        }
    }
}
