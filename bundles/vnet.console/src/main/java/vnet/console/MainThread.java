package vnet.console;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.launch.Framework;

/**
 * The bnd launcher's main thread: the launcher calls a {@code Callable<Integer>} service with {@code main.thread=true}
 * on its main thread, then stops the framework (every bundle stops, ports close, their sockets go) and exits with
 * the returned code. {@link #exit(int)} is how vnet asks to end; the first code asked for wins.
 */
public final class MainThread implements Callable<Integer> {
    /** How long SIGTERM waits for the framework to stop before the JVM goes anyway. */
    private static final long STOP_WAIT_MILLIS = 20_000;

    private final BundleContext context;
    private final CompletableFuture<Integer> code = new CompletableFuture<>();
    private final Thread hook;

    MainThread(BundleContext context) {
        this.context = context;
        this.hook = new Thread(this::onSignal, "vnet-sigterm");
    }

    /** Asks the runtime to end with {@code exitCode}; returns at once. */
    public void exit(int exitCode) {
        code.complete(exitCode);
    }

    /** Whether an exit was asked for. */
    boolean exiting() {
        return code.isDone();
    }

    @Override
    public Integer call() throws InterruptedException {
        try {
            return code.get();
        } catch (ExecutionException e) {
            return ExitCodes.COMMAND_FAILED;
        }
    }

    /** SIGTERM and SIGINT run shutdown hooks: stop the framework the OSGi way, then end with 0 rather than 143. */
    void installShutdownHook() {
        Runtime.getRuntime().addShutdownHook(hook);
    }

    private void onSignal() {
        code.complete(ExitCodes.OK);
        try {
            Framework framework = (Framework) context.getBundle(0);
            framework.stop();
            framework.waitForStop(STOP_WAIT_MILLIS);
        } catch (BundleException | IllegalStateException | InterruptedException e) {
            // stopping anyway
        }
        System.out.flush();
        System.err.flush();
        // Other hooks (the launcher's System.exit waits on them) would keep 143; the framework is down already.
        Runtime.getRuntime().halt(ExitCodes.OK);
    }

    /** The bundle stops (the framework stops, or someone stopped it): release the launcher's main thread. */
    void stopped() {
        code.complete(ExitCodes.OK);
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook itself stops us
        }
    }

    /** Waits a little for an exit asked for elsewhere to take effect (used to keep a finished shell quiet). */
    void awaitExit(long millis) throws InterruptedException {
        try {
            code.get(millis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            // not yet
        }
    }
}
