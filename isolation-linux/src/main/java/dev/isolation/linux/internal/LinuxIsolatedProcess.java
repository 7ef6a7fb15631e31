package dev.isolation.linux.internal;

import dev.isolation.ExitStatus;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.IsolationException;
import dev.isolation.JoinSpec;
import dev.isolation.LaunchException;
import dev.isolation.ResourceUsage;
import dev.isolation.Signal;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The handle of one launch. Its state moves from pending to started (or failed) to exited,
 * driven by the helper connection's reader thread; callers wait on latches, never on that
 * thread. See {@link IsolatedProcess} for the contract.
 */
final class LinuxIsolatedProcess implements IsolatedProcess {
    private static final int SIGKILL = 9;

    private final long id;
    /** The launch's spec; null for a process started by a join. */
    private final IsolatedProcessSpec spec;
    private final List<String> command;
    /** Starts joins into this sandbox, through the same helper. */
    private final LinuxLauncher launcher;
    private final HelperConnection helper;
    private final Executor notifier;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;

    private final CountDownLatch startLatch = new CountDownLatch(1);
    private final CountDownLatch exitLatch = new CountDownLatch(1);
    /** Made on the first call of onExit(): most callers never ask, and completing costs a thread hand-off. */
    private CompletableFuture<ExitStatus> onExit; // guarded by this
    private volatile int pid;
    private volatile LaunchException launchFailure;
    private volatile ExitStatus exitStatus;
    private volatile IsolationException lost;
    private volatile long userMicros;
    private volatile long systemMicros;
    private volatile long maxRssKib;
    /** The sandbox's cgroup directories from STARTED; "" without resource limits. */
    private volatile String memoryCgroup = "";
    private volatile String cpuCgroup = "";
    /** From EXITED: ISO_EXIT_* flags and the cgroup's final figures (-1: unknown). */
    private volatile int exitFlags;
    private volatile long cgroupPeakBytes = -1;
    private volatile long cgroupCpuMicros = -1;
    private volatile boolean timedOut;
    private volatile ScheduledFuture<?> timeout;

    LinuxIsolatedProcess(long id, IsolatedProcessSpec spec, HelperConnection helper, Executor notifier,
            OutputStream stdin, InputStream stdout, InputStream stderr) {
        this(id, spec, spec.command(), null, helper, notifier, stdin, stdout, stderr);
    }

    /** {@code spec} is null for a joined process; {@code launcher} (null: none) serves {@link #join}. */
    LinuxIsolatedProcess(long id, IsolatedProcessSpec spec, List<String> command, LinuxLauncher launcher,
            HelperConnection helper, Executor notifier, OutputStream stdin, InputStream stdout, InputStream stderr) {
        this.id = id;
        this.spec = spec;
        this.command = List.copyOf(command);
        this.launcher = launcher;
        this.helper = helper;
        this.notifier = notifier;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    long id() {
        return id;
    }

    IsolatedProcessSpec spec() {
        return spec;
    }

    // --- driven by the reader thread ---

    void cgroupDirectories(String memory, String cpu) {
        memoryCgroup = memory;
        cpuCgroup = cpu;
    }

    /** Called before {@link #exited}, with the EXITED frame's cgroup part. */
    void cgroupFigures(int flags, long peakBytes, long cpuMicros) {
        exitFlags = flags;
        cgroupPeakBytes = peakBytes;
        cgroupCpuMicros = cpuMicros;
    }

    void started(int hostPid) {
        pid = hostPid;
        startLatch.countDown();
    }

    void failed(LaunchException failure) {
        launchFailure = failure;
        startLatch.countDown();
    }

    void exited(int waitStatus, long userMicros, long systemMicros, long maxRssKib) {
        this.userMicros = userMicros;
        this.systemMicros = systemMicros;
        this.maxRssKib = maxRssKib;
        int signal = waitStatus & 0x7f;
        ExitStatus status = (signal == 0
                ? ExitStatus.exited((waitStatus >> 8) & 0xff)
                : ExitStatus.killed(signal, (waitStatus & 0x80) != 0)).withTimedOut(timedOut)
                .withOomKilled((exitFlags & Protocol.EXIT_OOM_KILLED) != 0);
        exitStatus = status;
        ScheduledFuture<?> pending = timeout;
        if (pending != null) {
            pending.cancel(false);
        }
        exitLatch.countDown();
        CompletableFuture<ExitStatus> future = onExitIfAsked();
        if (future != null) {
            notifier.execute(() -> future.complete(status));
        }
    }

    void helperDied(String message) {
        if (startLatch.getCount() > 0) {
            failed(new LaunchException("native helper", "", null, null, message, null));
        }
        if (exitLatch.getCount() > 0) {
            IsolationException failure = new IsolationException(message);
            lost = failure;
            exitLatch.countDown();
            CompletableFuture<ExitStatus> future = onExitIfAsked();
            if (future != null) {
                notifier.execute(() -> future.completeExceptionally(failure));
            }
        }
    }

    /** Kills the whole sandbox when {@code limit} has passed, unless it has ended by then. */
    void expireAfter(Duration limit, ScheduledExecutorService scheduler) {
        timeout = scheduler.schedule(() -> {
            if (isAlive()) {
                timedOut = true;
                destroy();
            }
        }, limit.toNanos(), TimeUnit.NANOSECONDS);
        if (!isAlive()) {
            timeout.cancel(false);
        }
    }

    /** Waits until the helper reported STARTED or FAILED; throws the failure. */
    void awaitStart() {
        boolean interrupted = false;
        while (true) {
            try {
                startLatch.await();
                break;
            } catch (InterruptedException e) {
                // The launch is already under way and must end in a known state; finish waiting.
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        LaunchException failure = launchFailure;
        if (failure != null) {
            closeStreams();
            throw failure;
        }
    }

    // --- IsolatedProcess ---

    @Override
    public long pid() {
        return pid;
    }

    @Override
    public ExitStatus waitFor() throws InterruptedException {
        exitLatch.await();
        return result();
    }

    @Override
    public Optional<ExitStatus> waitFor(Duration timeout) throws InterruptedException {
        Objects.requireNonNull(timeout, "timeout");
        if (!exitLatch.await(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS)) {
            return Optional.empty();
        }
        return Optional.of(result());
    }

    private ExitStatus result() {
        IsolationException failure = lost;
        if (failure != null) {
            throw new IsolationException(failure.getMessage(), failure);
        }
        return exitStatus;
    }

    @Override
    public synchronized CompletableFuture<ExitStatus> onExit() {
        if (onExit == null) {
            onExit = new CompletableFuture<>();
            if (exitLatch.getCount() == 0) {
                // ended before anyone asked: nothing else will complete it
                IsolationException failure = lost;
                if (failure != null) {
                    onExit.completeExceptionally(failure);
                } else {
                    onExit.complete(exitStatus);
                }
            }
        }
        return onExit;
    }

    private synchronized CompletableFuture<ExitStatus> onExitIfAsked() {
        return onExit;
    }

    @Override
    public Optional<ExitStatus> exitStatus() {
        return exitLatch.getCount() == 0 ? Optional.of(result()) : Optional.empty();
    }

    @Override
    public boolean isAlive() {
        return exitLatch.getCount() > 0;
    }

    @Override
    public void kill(Signal signal) {
        Objects.requireNonNull(signal, "signal");
        if (isAlive()) {
            helper.signal(id, signal.number());
        }
    }

    @Override
    public void destroy() {
        // The helper kills the PID namespace through its PID 1, the cgroup, or else the process
        // group; for a joined process, its process group (ISO_MSG_SIGNAL_ALL).
        if (isAlive()) {
            helper.signalAll(id, SIGKILL);
        }
    }

    @Override
    public IsolatedProcess join(JoinSpec joinSpec) {
        Objects.requireNonNull(joinSpec, "joinSpec");
        if (launcher == null) {
            throw new LaunchException("join", "", null, null, "this handle cannot start joins", null);
        }
        if (!isAlive()) {
            int esrch = 3;
            throw new LaunchException("find target", "", esrch, Errno.name(esrch), Errno.text(esrch), "the sandbox has ended: " + this);
        }
        // The helper refuses too (FAILED "find target", ESRCH) if it ends before the join gets there.
        return launcher.join(helper, id, pid, joinSpec);
    }

    @Override
    public Optional<ResourceUsage> resourceUsage() {
        if (exitStatus == null) {
            // running: the cgroup's current figures, when it has one
            Optional<ResourceUsage> live = Cgroups.read(memoryCgroup, cpuCgroup);
            if (live.isPresent() || exitStatus == null) {
                return live;
            }
        }
        // ended: the cgroup's final figures, or the main process's rusage without a cgroup
        boolean cgroup = (exitFlags & Protocol.EXIT_HAS_CGROUP) != 0;
        long peakBytes = cgroup && cgroupPeakBytes >= 0 ? cgroupPeakBytes : maxRssKib * 1024;
        long cpuMicros = cgroup && cgroupCpuMicros >= 0 ? cgroupCpuMicros : userMicros + systemMicros;
        return Optional.of(new ResourceUsage(OptionalLong.empty(), OptionalLong.of(peakBytes), Duration.ofNanos(cpuMicros * 1000)));
    }

    @Override
    public OutputStream stdin() {
        return stdin;
    }

    @Override
    public InputStream stdout() {
        return stdout;
    }

    @Override
    public InputStream stderr() {
        return stderr;
    }

    @Override
    public void close() {
        if (isAlive()) {
            helper.signalAll(id, SIGKILL);
            boolean interrupted = false;
            while (exitLatch.getCount() > 0) {
                try {
                    exitLatch.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        closeStreams();
    }

    private void closeStreams() {
        try {
            stdin.close();
            stdout.close();
            stderr.close();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return "IsolatedProcess[pid=" + pid + ", " + (isAlive() ? "running" : "ended " + exitStatus) + ", command=" + command + "]";
    }
}
