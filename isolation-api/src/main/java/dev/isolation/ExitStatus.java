package dev.isolation;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * How a sandbox's main process ended: it exited with a code, or a signal killed it.
 *
 * <p>Immutable and thread-safe.
 */
public final class ExitStatus {
    private final Integer exitCode;
    private final Integer signal;
    private final boolean coreDumped;
    private final boolean oomKilled;
    private final boolean timedOut;

    private ExitStatus(Integer exitCode, Integer signal, boolean coreDumped, boolean oomKilled, boolean timedOut) {
        this.exitCode = exitCode;
        this.signal = signal;
        this.coreDumped = coreDumped;
        this.oomKilled = oomKilled;
        this.timedOut = timedOut;
    }

    /** A normal exit with {@code code} (0 to 255). */
    public static ExitStatus exited(int code) {
        if (code < 0 || code > 255) {
            throw new IllegalArgumentException("exit code must be 0..255, got " + code);
        }
        return new ExitStatus(code, null, false, false, false);
    }

    /** A death by signal number {@code signal}. */
    public static ExitStatus killed(int signal, boolean coreDumped) {
        if (signal < 1 || signal > 64) {
            throw new IllegalArgumentException("signal must be 1..64, got " + signal);
        }
        return new ExitStatus(null, signal, coreDumped, false, false);
    }

    /** Whether the process called {@code exit}; then {@link #exitCode()} is present. */
    public boolean exited() {
        return exitCode != null;
    }

    /** Whether the process exited with code 0. */
    public boolean succeeded() {
        return exitCode != null && exitCode == 0;
    }

    /** The exit code, when the process exited normally. */
    public OptionalInt exitCode() {
        return exitCode == null ? OptionalInt.empty() : OptionalInt.of(exitCode);
    }

    /** Whether a signal killed the process; then {@link #signal()} is present. */
    public boolean killedBySignal() {
        return signal != null;
    }

    /** The number of the signal that killed the process. See {@link Signal#ofNumber(int)}. */
    public OptionalInt signal() {
        return signal == null ? OptionalInt.empty() : OptionalInt.of(signal);
    }

    /** Whether the killing signal also dumped core. */
    public boolean coreDumped() {
        return coreDumped;
    }

    /**
     * Whether the kernel's OOM killer killed a process of the sandbox because of its memory limit
     * (read from the sandbox's cgroup, not guessed from SIGKILL). The main process may still
     * have exited normally, if the process killed was another one.
     */
    public boolean oomKilled() {
        return oomKilled;
    }

    /** Whether the sandbox was killed because its {@link IsolatedProcessSpec#timeout()} expired. */
    public boolean timedOut() {
        return timedOut;
    }

    /** This status, marked as (or not as) caused by the OOM killer. */
    public ExitStatus withOomKilled(boolean value) {
        return new ExitStatus(exitCode, signal, coreDumped, value, timedOut);
    }

    /** This status, marked as (or not as) caused by the timeout. */
    public ExitStatus withTimedOut(boolean value) {
        return new ExitStatus(exitCode, signal, coreDumped, oomKilled, value);
    }

    /** The status as a shell reports it: the exit code, or 128 plus the signal number. */
    public int shellStatus() {
        return exitCode != null ? exitCode : 128 + signal;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ExitStatus other
                && Objects.equals(exitCode, other.exitCode)
                && Objects.equals(signal, other.signal)
                && coreDumped == other.coreDumped
                && oomKilled == other.oomKilled
                && timedOut == other.timedOut;
    }

    @Override
    public int hashCode() {
        return Objects.hash(exitCode, signal, coreDumped, oomKilled, timedOut);
    }

    @Override
    public String toString() {
        String cause = (oomKilled ? ", OOM-killed" : "") + (timedOut ? ", timed out" : "");
        if (exitCode != null) {
            return "exited(" + exitCode + cause + ")";
        }
        String name = Signal.ofNumber(signal).map(s -> "SIG" + s.name()).orElse("signal " + signal);
        return "killed(" + name + (coreDumped ? ", core dumped" : "") + cause + ")";
    }
}
