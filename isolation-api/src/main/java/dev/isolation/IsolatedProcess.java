package dev.isolation;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A handle to a running (or finished) sandbox's main process, returned by
 * {@link Launcher#launch(IsolatedProcessSpec)}.
 *
 * <p>Thread-safe: any thread may wait, signal, read or close at any time. The streams
 * themselves, like any stream, should be used by one thread at a time each.
 *
 * <p>Races, stated openly: a process may exit at any moment, so {@link #isAlive()} can be stale
 * when it returns, and {@link #kill(Signal)} may reach a process that has just exited; it then
 * does nothing. A signal never reaches an unrelated process that reused the pid: the library
 * signals only processes it has not yet reaped.
 *
 * <p>Close the handle when done ({@code try}-with-resources): {@link #close()} kills what still
 * runs and releases the streams and every other resource of the sandbox.
 */
public interface IsolatedProcess extends AutoCloseable {

    /** The main process's pid as the host (the caller's PID namespace) sees it. */
    long pid();

    /**
     * Waits until the main process has ended.
     *
     * @return how it ended
     * @throws InterruptedException if the waiting thread is interrupted
     */
    ExitStatus waitFor() throws InterruptedException;

    /**
     * Waits at most {@code timeout} for the main process to end.
     *
     * @return how it ended, or empty if it still runs after {@code timeout}
     * @throws InterruptedException if the waiting thread is interrupted
     */
    Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException;

    /**
     * A future completed with the exit status when the main process has ended. Dependent
     * actions that are not {@code *Async} run on the library's notification thread: keep them
     * short, or use the {@code *Async} variants.
     */
    CompletableFuture<ExitStatus> onExit();

    /** How the main process ended, or empty while it runs. Does not block. */
    Optional<ExitStatus> exitStatus();

    /** Whether the main process still runs (not yet reaped). */
    boolean isAlive();

    /**
     * Sends {@code signal} to the main process. Does nothing if it has already ended.
     */
    void kill(Signal signal);

    /**
     * Kills every process of the sandbox, including ones that left the main process's session
     * or double-forked, then returns; {@link #waitFor()} then returns promptly. With a PID
     * namespace (the default) that is everything in it; without one, every process of the
     * sandbox's cgroup (when it has one); without either, only the main process's process
     * group. Does nothing if the sandbox has already ended.
     */
    void destroy();

    /**
     * Runs another command inside this sandbox (like {@code nsenter}): in its namespaces, root
     * filesystem, cgroup and identity, with its own standard streams.
     *
     * @throws LaunchException if the command could not be started there, e.g. because the
     *     sandbox has ended
     */
    IsolatedProcess join(JoinSpec spec);

    /**
     * What the sandbox has used so far (while it runs) or in all (after it ended). Empty while
     * it runs without a cgroup, since then nothing is measured until it ends.
     */
    Optional<ResourceUsage> resourceUsage();

    /** The write end of the sandbox's standard input; a stream that discards when not piped. */
    OutputStream stdin();

    /** The read end of the sandbox's standard output; an empty stream when not piped. */
    InputStream stdout();

    /** The read end of the sandbox's standard error; an empty stream when not piped. */
    InputStream stderr();

    /**
     * Kills the main process if it still runs ({@code SIGKILL}), waits until it is reaped, and
     * closes the streams. Idempotent.
     */
    @Override
    void close();
}
