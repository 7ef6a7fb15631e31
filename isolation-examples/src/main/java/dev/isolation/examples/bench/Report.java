package dev.isolation.examples.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** Prints the run's tables: latency, throughput, the alive run's figures, then the targets. */
final class Report {
    private static final String ROW = "%-22s %9s %9s %8s %9s %11s  %s%n";

    private final PrintStream out;

    Report(PrintStream out) {
        this.out = out;
    }

    void print(BenchOptions options, LatencyRun latency, List<ThroughputRow> throughput, AliveResult alive) {
        latency(options, latency);
        throughput(options, throughput);
        alive(alive);
        Targets.print(Targets.of(latency.rows(), throughput, alive), out);
    }

    private void latency(BenchOptions options, LatencyRun run) {
        List<LatencyRow> rows = run.rows();
        double pb = rows.stream().filter(r -> r.name().equals(Subjects.PB_TRUE)).findFirst()
                .map(LatencyRow::medianMillis).orElse(Double.NaN);
        out.printf(Locale.ROOT, "Launch latency of /bin/true: launch, wait for exit, release; %d timed launches per row after %d"
                + " warm-up, interleaved; milliseconds, lower is better%n", options.iterations(), options.warmup() * run.warmupRounds());
        out.printf(Locale.ROOT, ROW, "row", "median", "p99", "p99/med", "/pb-true", "after-pause", "what runs");
        for (LatencyRow row : rows) {
            if (row.problem().isPresent()) {
                out.printf(Locale.ROOT, "%-22s %s%n", row.name(), row.problem().get());
                continue;
            }
            out.printf(Locale.ROOT, ROW, row.name(), fixed(row.medianMillis(), 3), fixed(row.p99Millis(), 3),
                    fixed(row.p99Millis() / row.medianMillis(), 2), fixed(row.medianMillis() / pb, 3),
                    fixed(row.afterPauseMedianMillis(), 3), row.subject().description());
        }
        int slices = rows.stream().flatMap(r -> r.afterPause().stream()).mapToInt(Samples::count).findFirst().orElse(0);
        out.printf(Locale.ROOT, "after-pause: median of the %d launches that each came first after a slice's pause (%d ms), from an idle"
                + " machine; they are %s%% of a row's launches, so where they are its slowest they decide its p99%n",
                slices, LatencyBench.SETTLE_MILLIS, fixed(100.0 * slices / options.iterations(), 1));
        jit(options, run);
        out.println();
    }

    /** How warm the JVM was: compiling during the timed launches delays some of them (JitClock). */
    private void jit(BenchOptions options, LatencyRun run) {
        if (!JitClock.supported()) {
            out.printf(Locale.ROOT, "JIT: this JVM does not report its compiling time; the warm-up ran one round of %d launches per row%n",
                    options.warmup());
            return;
        }
        LatencyRun.Span last = run.lastWarmupRound();
        if (run.warmupRounds() == 0) {
            out.printf(Locale.ROOT, "JIT: no warm-up; compiling during the timed launches: %d ms of %d ms%n",
                    run.timed().jitMillis(), run.timed().wallMillis());
            return;
        }
        out.printf(Locale.ROOT, "JIT: the warm-up ran %d round(s) of %d launches per row, until one spent at most %s%% of its time"
                + " compiling (the last: %d ms of %d ms); compiling during the timed launches: %d ms of %d ms%n",
                run.warmupRounds(), options.warmup(), fixed(LatencyBench.QUIET_JIT_PERCENT, 0), last.jitMillis(), last.wallMillis(),
                run.timed().jitMillis(), run.timed().wallMillis());
    }

    private void throughput(BenchOptions options, List<ThroughputRow> rows) {
        double pb = Targets.rate(rows, Subjects.PB_TRUE);
        double bwrap = Targets.rate(rows, Subjects.PB_BWRAP);
        out.printf(Locale.ROOT, "Throughput: %d threads launching /bin/true back to back for %s s per row, in %d interleaved rounds;"
                + " higher is better%n", options.threads(), fixed(options.threadsSeconds(), 1), ThroughputBench.ROUNDS);
        out.printf(Locale.ROOT, "%-22s %11s %9s %9s%n", "row", "launches/s", "/pb-true", "/pb-bwrap");
        for (ThroughputRow row : rows) {
            if (row.problem().isPresent()) {
                out.printf(Locale.ROOT, "%-22s %s%n", row.name(), row.problem().get());
                continue;
            }
            out.printf(Locale.ROOT, "%-22s %11s %9s %9s%n", row.name(), fixed(row.launchesPerSecond(), 1),
                    fixed(row.launchesPerSecond() / pb, 3), fixed(row.launchesPerSecond() / bwrap, 2));
        }
        for (ThroughputRow row : rows) {
            if (row.subject().bursts().isPresent()) {
                out.printf(Locale.ROOT, "%s: %s, with %d workers; a ceiling for any launcher of this shape here, not a peer%n",
                        row.name(), row.subject().description(), options.threads());
            }
        }
        out.println();
    }

    private void alive(AliveResult a) {
        Footprint before = a.before();
        Footprint alive = a.alive();
        out.printf(Locale.ROOT, "%d sandboxes alive at once (isolated's namespaces and rootfs, running sleep; stdio /dev/null)%n",
                a.requested());
        out.printf(Locale.ROOT, "  launched %d in %s s; still running when measured: %d%s%n", a.launched(), fixed(a.launchSeconds(), 2),
                a.stillAlive(), a.launchProblem().map(p -> "; " + p).orElse(""));
        out.printf(Locale.ROOT, "  JVM threads: %d before, %d with them alive (%+d); threads the library runs: %d %s%n",
                before.threads(), alive.threads(), alive.threads() - before.threads(), a.libraryThreads().size(), a.libraryThreads());
        out.printf(Locale.ROOT, "  retained heap: %s MiB before, %s MiB alive: %s KiB per handle%n", mib(before.heapBytes()),
                mib(alive.heapBytes()), fixed(a.heapPerHandleKib(), 2));
        out.printf(Locale.ROOT, "  library processes %s: PSS %d KiB before, %d KiB alive: %s KiB per sandbox%n", a.libraryPids(),
                before.libraryPssKib(), alive.libraryPssKib(), fixed(a.libraryPssPerSandboxKib(), 2));
        out.printf(Locale.ROOT, "  sandboxes' own PSS (the command's memory, not the library's): %s KiB each%n",
                fixed(a.sandboxPssEachKib(), 1));
        out.printf(Locale.ROOT, "  JVM descriptors: %d before, %d alive (%s per handle)%n", before.fds(), alive.fds(),
                fixed(a.fdsPerHandle(), 3));
        out.printf(Locale.ROOT, "  kernel memory (slab, stacks, page tables; system-wide, so it includes the sandboxed processes"
                + " and their namespaces): %s KiB per sandbox%n", fixed(a.kernelPerSandboxKib(), 1));
        out.printf(Locale.ROOT, "  closed all in %s s; sandbox processes left after close: %d%n", fixed(a.closeSeconds(), 2),
                a.leftAfterClose());
        out.println();
    }

    private static String fixed(double value, int decimals) {
        return String.format(Locale.ROOT, "%." + decimals + "f", value);
    }

    private static String mib(long bytes) {
        return fixed(bytes / (1024.0 * 1024.0), 1);
    }
}
