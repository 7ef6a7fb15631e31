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
 * <p>When the main process ends, nothing of the sandbox keeps running, given a PID namespace
 * (the default: the main process is its PID 1, and the kernel kills the whole namespace when it
 * ends) or a cgroup of its own (resource limits: what is left in it is killed). Without either,
 * only the main process's process group is killed then; a process that left it (a daemon that
 * called {@code setsid}) keeps running until {@link #destroy()} cannot reach it either, and is
 * killed at the latest when the JVM exits or dies, since the library's helper adopts every
 * orphan of its sandboxes and kills all of them when the JVM's connection ends.
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
     * namespace (the default) that is everything in it (its PID 1 is killed, and the kernel kills
     * the rest); with a cgroup of its own (resource limits) also every member of that cgroup;
     * without either, only the main process's process group (the sandbox starts a new session,
     * so that is the main process and every descendant that did not call {@code setsid}). For a
     * process started by {@link #join}, its own process group. Never hits an unrelated process
     * that reused a pid: it acts only while the main process is not reaped. Does nothing if the
     * sandbox has already ended. {@link IsolatedProcessSpec#timeout()} ends a sandbox this way.
     */
    void destroy();

    /**
     * Runs another command inside this sandbox (like {@code nsenter}): in its namespaces, root
     * filesystem, cgroup and identity, with its own standard streams. Returns once the command
     * executes; the returned handle works like this one ({@link #destroy()} on it ends the joined
     * command's process group, not the sandbox). Inside a PID namespace the joined command is
     * one more process of it (not its PID 1), and dies with it. It gets what entering the
     * sandbox's user namespace gives: running as root inside, every capability there; as
     * another id, none. Until it executes the command, the process entering the sandbox cannot
     * be inspected, traced or altered from inside the sandbox.
     *
     * @throws LaunchException if the command could not be started there, naming the step (e.g.
     *     {@code "find target"} once the sandbox has ended, {@code "setns"}, {@code "chdir"},
     *     {@code "execve"})
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
     * Kills the sandbox like {@link #destroy()} if its main process still runs, waits until that
     * is reaped, and closes the streams. Idempotent.
     */
    @Override
    void close();
}
