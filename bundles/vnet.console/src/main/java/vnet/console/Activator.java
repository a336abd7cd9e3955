package vnet.console;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.concurrent.Callable;

import org.apache.felix.service.command.CommandProcessor;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

import vnet.switching.RuntimeDir;

/**
 * The Felix runtime's front door (vnet.bndrun starts this bundle alone at start level 1, before the vnet bundles):
 * refuses to start a second vnet on a runtime folder whose control socket answers, gives the launcher its exit code
 * ({@link MainThread}), stops the framework on SIGTERM, opens the control socket and runs Gogo's {@code gosh} the
 * vnet way ({@link Console}). An activator rather than DS components: it must act before SCR starts any vnet
 * component, and it is the runtime's own plumbing, not a service for others. Karaf does not get this bundle.
 */
public final class Activator implements BundleActivator {
    private MainThread main;
    private ControlSocket control;
    private ServiceRegistration<?> mainRegistration;
    private ServiceRegistration<?> consoleRegistration;
    private ServiceRegistration<?> exitRegistration;

    @Override
    public void start(BundleContext context) throws IOException {
        Path runtimeDir = RuntimeDir.of(context);
        if (ControlSocket.answers(runtimeDir)) {
            // Nothing of vnet runs yet in this JVM (the vnet bundles start at level 2): leave before they bind sockets.
            System.err.println("vnet: a vnet runs already with runtime folder " + runtimeDir + " (its control socket "
                    + ControlSocket.path(runtimeDir) + " answers); run commands in it with runtime/vnetctl <command>,"
                    + " or give this one -Dvnet.runtime.dir=<another folder>");
            System.err.flush();
            Runtime.getRuntime().halt(ExitCodes.COMMAND_FAILED);
        }
        Errors errors = new Errors(runtimeDir.resolve("vnet.log"));
        main = new MainThread(context);
        Hashtable<String, Object> mainProps = new Hashtable<>();
        mainProps.put("main.thread", "true");
        mainRegistration = context.registerService(new String[] {Callable.class.getName()}, main, mainProps);
        main.installShutdownHook();

        Console console = new Console(context, main, errors);
        Hashtable<String, Object> gosh = new Hashtable<>();
        gosh.put(CommandProcessor.COMMAND_SCOPE, "gogo");
        gosh.put(CommandProcessor.COMMAND_FUNCTION, new String[] {"gosh"});
        // Outranks gogo.shell's own gosh, which gogo.shell's start job calls with -Dgosh.args.
        gosh.put(Constants.SERVICE_RANKING, 100);
        consoleRegistration = context.registerService(Console.class.getName(), console, gosh);

        Hashtable<String, Object> exit = new Hashtable<>();
        exit.put(CommandProcessor.COMMAND_SCOPE, "vnet");
        exit.put(CommandProcessor.COMMAND_FUNCTION, new String[] {"exit"});
        exitRegistration = context.registerService(ExitCommand.class.getName(), new ExitCommand(main), exit);

        control = ControlSocket.open(context, runtimeDir, errors);
    }

    @Override
    public void stop(BundleContext context) {
        if (control != null) {
            control.close();
        }
        for (ServiceRegistration<?> r : new ServiceRegistration<?>[] {exitRegistration, consoleRegistration,
                mainRegistration}) {
            if (r != null) {
                try {
                    r.unregister();
                } catch (IllegalStateException gone) {
                    // unregistered already
                }
            }
        }
        if (main != null) {
            main.stopped();
        }
    }

}
