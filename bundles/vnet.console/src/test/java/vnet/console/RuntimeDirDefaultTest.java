package vnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import vnet.switching.FabricSettings;

/**
 * The runtime folder's default has one definition, {@link FabricSettings#DEFAULT_RUNTIME_DIR}; the scripts of
 * runtime/ that run outside any framework (vnetctl's VnetCtl.java, two-guests.sh) must repeat it, and this test
 * holds them to it.
 */
class RuntimeDirDefaultTest {
    @Test
    void vnetCtlHasTheDefault() throws IOException {
        assertEquals(FabricSettings.DEFAULT_RUNTIME_DIR.toString(),
                find("VnetCtl.java", "static final String DEFAULT_RUNTIME_DIR = \"([^\"]*)\";"));
    }

    @Test
    void twoGuestsHasTheDefault() throws IOException {
        assertEquals(FabricSettings.DEFAULT_RUNTIME_DIR.toString(), find("two-guests.sh", "\\$\\{VNET_RUNTIME_DIR:-([^}]*)}"));
    }

    /** The first group of {@code regex} in runtime/{@code file}, found from this module's folder up. */
    private static String find(String file, String regex) throws IOException {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("runtime").resolve(file))) {
            dir = dir.getParent();
        }
        assertTrue(dir != null, "runtime/" + file + " not found above " + Path.of("").toAbsolutePath());
        Matcher m = Pattern.compile(regex).matcher(Files.readString(dir.resolve("runtime").resolve(file)));
        assertTrue(m.find(), "runtime/" + file + " has no " + regex);
        return m.group(1);
    }
}
