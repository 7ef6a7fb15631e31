package dev.isolation.examples.bench;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The targets: each figure of the run, its limit and which way is good. Printed as a
 * table, then as the run's last lines, {@code ratio NAME VALUE}, one per target, for scripts.
 */
final class Targets {
    private Targets() {
    }

    /**
     * One target.
     *
     * @param name the name in the {@code ratio} line
     * @param value the figure, NaN when it could not be measured
     * @param limit the bound the figure must respect
     * @param atMost whether the figure must be at most (else at least) the limit
     * @param decimals how many decimals to print
     * @param meaning how the figure is computed
     */
    record Target(String name, double value, double limit, boolean atMost, int decimals, String meaning) {
        String verdict() {
            if (Double.isNaN(value)) {
                return "not measured";
            }
            return (atMost ? value <= limit : value >= limit) ? "met" : "MISSED";
        }

        String formattedValue() {
            return String.format(Locale.ROOT, "%." + decimals + "f", value);
        }
    }

    static List<Target> of(List<LatencyRow> latency, List<ThroughputRow> throughput, AliveResult alive) {
        double isolated = median(latency, Subjects.ISOLATED);
        double pb = median(latency, Subjects.PB_TRUE);
        LatencyRow main = row(latency, Subjects.ISOLATED);
        return List.of(
                new Target("isolated-vs-pb", isolated / pb, 1.0, true, 3, "median isolated / median pb-true"),
                new Target("isolated-vs-pb-bwrap", isolated / median(latency, Subjects.PB_BWRAP), 0.35, true, 3,
                        "median isolated / median pb-bwrap"),
                new Target("net-vs-pb", median(latency, Subjects.ISOLATED_NET) / pb, 1.2, true, 3, "median isolated-net / median pb-true"),
                new Target("memory-limit-vs-pb", median(latency, Subjects.ISOLATED_MEMORY_LIMIT) / pb, 1.3, true, 3,
                        "median isolated-memory-limit / median pb-true"),
                new Target("throughput-vs-pb", rate(throughput, Subjects.ISOLATED) / rate(throughput, Subjects.PB_TRUE), 1.0, false, 3,
                        "launches/s isolated / launches/s pb-true"),
                new Target("throughput-vs-bwrap", rate(throughput, Subjects.ISOLATED) / rate(throughput, Subjects.PB_BWRAP), 4.0, false, 3,
                        "launches/s isolated / launches/s pb-bwrap"),
                new Target("threads-supervising", alive.launched() == 0 ? Double.NaN : alive.libraryThreads().size(), 4, true, 0,
                        "threads the library runs with " + alive.launched() + " sandboxes alive"),
                new Target("heap-per-handle-kib", alive.heapPerHandleKib(), 16, true, 2, "retained heap per live handle, KiB"),
                new Target("pss-per-sandbox-kib", alive.libraryPssPerSandboxKib(), 256, true, 2,
                        "PSS the library's own processes add per live sandbox, KiB"),
                new Target("p99-over-median", main.p99Millis() / main.medianMillis(), 2.0, true, 3, "p99 / median of isolated"));
    }

    static void print(List<Target> targets, PrintStream out) {
        out.println("Targets");
        out.printf(Locale.ROOT, "%-22s %10s  %-8s %-13s %s%n", "name", "value", "target", "verdict", "meaning");
        for (Target t : targets) {
            String bound = (t.atMost() ? "<= " : ">= ") + String.format(Locale.ROOT, "%s", trim(t.limit()));
            String meaning = t.meaning() + (t.atMost() ? " (lower is better)" : " (higher is better)");
            out.printf(Locale.ROOT, "%-22s %10s  %-8s %-13s %s%n", t.name(), t.formattedValue(), bound, t.verdict(), meaning);
        }
        out.println();
        for (Target t : targets) {
            out.println("ratio " + t.name() + " " + t.formattedValue());
        }
    }

    private static String trim(double limit) {
        return limit == Math.rint(limit) ? Long.toString((long) limit) : Double.toString(limit);
    }

    private static LatencyRow row(List<LatencyRow> latency, String name) {
        return latency.stream().filter(r -> r.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no latency row " + name));
    }

    private static double median(List<LatencyRow> latency, String name) {
        return row(latency, name).medianMillis();
    }

    /** Launches per second of the throughput row {@code name}; NaN when it is missing or was not measured. */
    static double rate(List<ThroughputRow> throughput, String name) {
        return throughput.stream().filter(r -> r.name().equals(name)).findFirst()
                .map(ThroughputRow::launchesPerSecond).orElse(Double.NaN);
    }
}
