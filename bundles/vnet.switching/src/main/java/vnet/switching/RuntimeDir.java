package vnet.switching;

import java.nio.file.Path;

import org.osgi.framework.BundleContext;

/**
 * The runtime folder: where ports put their sockets unless a configuration says otherwise
 * ({@code <dir>/<link>/<port>.sock}), and where the runtime keeps its control socket and error log. It is the
 * framework property {@value #PROPERTY}, else {@link FabricSettings#DEFAULT_RUNTIME_DIR}; the components, the shell
 * and the runtime's console all read it here. runtime/VnetCtl.java and runtime/two-guests.sh, which run outside any
 * framework, repeat the default; vnet.console's RuntimeDirDefaultTest checks that they agree.
 */
public final class RuntimeDir {
    /** The framework property naming the runtime folder. */
    public static final String PROPERTY = "vnet.runtime.dir";

    private RuntimeDir() {
    }

    /** The runtime folder for the framework property's value {@code value} (null or blank: the default). */
    public static Path of(String value) {
        return value == null || value.isBlank() ? FabricSettings.DEFAULT_RUNTIME_DIR : Path.of(value.trim());
    }

    /** The runtime folder of the framework {@code context} runs in. */
    public static Path of(BundleContext context) {
        return of(context.getProperty(PROPERTY));
    }
}
