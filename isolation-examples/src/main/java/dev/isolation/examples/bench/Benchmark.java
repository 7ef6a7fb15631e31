package dev.isolation.examples.bench;

import dev.isolation.IsolationException;
import dev.isolation.Isolation;
import dev.isolation.Launcher;
import dev.isolation.examples.BusyboxRootfs;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code isolation bench}: measures the library's launches against the peers (ProcessBuilder
 * running {@code /bin/true} bare, through {@code bwrap} and through {@code unshare}) in one
 * run from one warm JVM, and prints a table of medians, p99s and ratios, the throughput of
 * several launching threads, what a thousand live sandboxes cost, and finally one line
 * {@code ratio NAME VALUE} per target, for scripts.
 *
 * <p>A plain harness rather than JMH: launches take milliseconds, so timer and harness overhead
 * do not matter, while a short, self-contained run on two cores does.
 */
public final class Benchmark {
    /** Exit status when the arguments are wrong or the run cannot be set up. */
    private static final int SETUP_FAILED = 125;
    /** How long the alive run's sandboxes sleep; they are killed long before. */
    private static final int SLEEP_SECONDS = 60;

    private Benchmark() {
    }

    /**
     * Runs the benchmark. Progress goes to {@code err}, the results to {@code out}.
     *
     * @param args the options, see {@link BenchOptions#USAGE}
     * @return 0 when the run completed (whether or not the targets were met), 125 when it could not run
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.contains("--help") || args.contains("-h")) {
            out.println(BenchOptions.USAGE);
            return 0;
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            err.println("isolation bench: " + e.getMessage());
            err.println(BenchOptions.USAGE);
            return SETUP_FAILED;
        }
        Set<Long> threadsBeforeLibrary = JvmStats.threadIds();
        Optional<Path> givenRootfs = options.rootfs();
        Path rootfs = null;
        try {
            rootfs = givenRootfs.orElseGet(BusyboxRootfs::create);
            if (!Files.isExecutable(rootfs.resolve("bin/true")) || !Files.isExecutable(rootfs.resolve("bin/sleep"))) {
                err.println("isolation bench: " + rootfs + " lacks bin/true or bin/sleep (make it with BusyboxRootfs or make-rootfs.sh)");
                return SETUP_FAILED;
            }
            Launcher launcher = Isolation.launcher();
            Subjects subjects = new Subjects(launcher, rootfs);
            out.print(Environment.describe(rootfs));
            LatencyRun latency = LatencyBench.run(subjects.latencyRows(), options.warmup(), options.iterations(), err);
            List<ThroughputRow> throughput = ThroughputBench.run(subjects.throughputRows(), options.threads(), options.threadsSeconds(), err);
            AliveResult alive = AliveBench.run(launcher, subjects.sleepSpec(SLEEP_SECONDS), options.alive(), threadsBeforeLibrary, err);
            new Report(out).print(options, latency, throughput, alive);
            return 0;
        } catch (IsolationException | IllegalStateException | UncheckedIOException e) {
            err.println("isolation bench: " + e.getMessage());
            return SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("isolation bench: interrupted");
            return SETUP_FAILED;
        } finally {
            if (givenRootfs.isEmpty()) {
                BusyboxRootfs.delete(rootfs);
            }
        }
    }
}
