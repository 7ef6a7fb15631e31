package dev.isolation.examples.bench;

import dev.isolation.IsolationException;
import dev.isolation.Isolation;
import dev.isolation.examples.BusyboxRootfs;
import dev.isolation.examples.bench.LaunchTrace.Phase;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code isolation breakdown}: where the time of the benchmark's main isolated launch goes,
 * phase by phase, from the native helper's own timestamps ({@code -Disolation.trace}) lined up
 * with the JVM's. Launches run one at a time in slices of 50 after a 100 ms pause, as the
 * benchmark's latency rows do, and the table gives each phase's median, p90, p99 and maximum,
 * and its median among the slowest 1% of launches: where the tail's time goes.
 *
 * <p>A run of its own rather than part of {@code bench}: the trace is switched on when the
 * helper starts, for every launch of the JVM, and its writes (a few microseconds per phase)
 * should not be in the benchmark's figures.
 */
public final class Breakdown {
    private static final int SETUP_FAILED = 125;
    private static final int SLICE = 50;
    private static final String TRACE_PROPERTY = "isolation.trace";
    static final String USAGE = "usage: isolation breakdown [--iterations N] [--warmup N] [--rootfs DIR]\n"
            + "  defaults: --iterations 1000 --warmup 2000, a fresh busybox rootfs; the trace goes to a temporary"
            + " file unless -Disolation.trace=FILE names one (then it is kept)";

    /** One stretch of a launch, between two points of it; {@code null} stands for the JVM's own start or end. */
    record Segment(String name, Phase from, Phase to) {
    }

    // the segments both routes share: the way in and, from the sandbox's execve on, the way out
    private static final Segment TO_HELPER = new Segment("JVM: launch() until the helper read it", null, Phase.RECEIVED);
    private static final List<Segment> FROM_EXEC = List.of(
            new Segment("execve, until the helper sees it", Phase.EXEC, Phase.STARTED),
            new Segment("command runs, exits, is reaped", Phase.STARTED, Phase.EXITED),
            new Segment("JVM: EXITED read, waitFor returns, close", Phase.EXITED, null));

    /** The launch made from a spare whose root was built ahead: the usual way. */
    static final List<Segment> SPARE_ROUTE = withSharedSegments(
            new Segment("helper: hand the launch to a spare", Phase.RECEIVED, Phase.SPARE),
            new Segment("spare: wakes with the launch", Phase.SPARE, Phase.RELEASED),
            new Segment("sandbox: the set-up left (stdio, filter)", Phase.RELEASED, Phase.EXEC));

    /** The launch that found no spare ready: the helper clones the sandbox there and then. */
    static final List<Segment> DIRECT_ROUTE = withSharedSegments(
            new Segment("helper: clone, id maps", Phase.RECEIVED, Phase.DIRECT),
            new Segment("sandbox: wakes, released", Phase.DIRECT, Phase.RELEASED),
            new Segment("sandbox: root and the rest of the set-up", Phase.RELEASED, Phase.EXEC));

    /** A route's segments: the shared way in, its own until the execve, the shared way out. */
    private static List<Segment> withSharedSegments(Segment... untilExec) {
        List<Segment> all = new ArrayList<>(List.of(TO_HELPER));
        all.addAll(List.of(untilExec));
        all.addAll(FROM_EXEC);
        return List.copyOf(all);
    }

    /** One launch as the JVM timed it. */
    record Timed(long startNanos, long endNanos) {
    }

    /** One segment's figures over a route's launches, in milliseconds. */
    record SegmentStats(String name, double median, double p90, double p99, double max, double medianOfSlowest) {
    }

    /** The launches that went one way, and their segments. */
    record Route(String name, int launches, List<SegmentStats> segments, SegmentStats whole) {
    }

    /** The routes found, and the launches the trace had no single record for. */
    record Analysis(List<Route> routes, int unmatched) {
    }

    private Breakdown() {
    }

    /**
     * Runs the breakdown. Progress goes to {@code err}, the table to {@code out}.
     *
     * @return 0 when it ran, 125 when it could not
     */
    public static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.contains("--help") || args.contains("-h")) {
            out.println(USAGE);
            return 0;
        }
        int iterations = 1000;
        int warmup = 2000;
        Optional<Path> givenRootfs = Optional.empty();
        try {
            for (int i = 0; i < args.size(); i += 2) {
                String option = args.get(i);
                if (i + 1 >= args.size()) {
                    throw new IllegalArgumentException(option + " needs a value");
                }
                String value = args.get(i + 1);
                switch (option) {
                    case "--iterations" -> iterations = BenchOptions.positive(option, value);
                    case "--warmup" -> warmup = BenchOptions.atLeastZero(option, value);
                    case "--rootfs" -> givenRootfs = Optional.of(Path.of(value));
                    default -> throw new IllegalArgumentException("unknown option " + option);
                }
            }
        } catch (IllegalArgumentException e) {
            err.println("isolation breakdown: " + e.getMessage());
            err.println(USAGE);
            return SETUP_FAILED;
        }
        Path rootfs = null;
        Path trace = null;
        boolean ownTrace = System.getProperty(TRACE_PROPERTY, "").isEmpty();
        try {
            // before the first launch of this JVM: the helper reads the property when it starts
            trace = ownTrace ? Files.createTempFile("isolation-trace-", ".txt") : Path.of(System.getProperty(TRACE_PROPERTY));
            if (ownTrace) {
                System.setProperty(TRACE_PROPERTY, trace.toString());
            }
            rootfs = givenRootfs.orElseGet(BusyboxRootfs::create);
            Subject isolated = new Subjects(Isolation.launcher(), rootfs).isolated();
            err.printf("isolation breakdown: %d warm-up launches, then %d timed in slices of %d after %d ms pauses%n",
                    warmup, iterations, SLICE, LatencyBench.SETTLE_MILLIS);
            for (int i = 0; i < warmup; i++) {
                isolated.launch().runOnce();
            }
            List<Timed> timed = new ArrayList<>(iterations);
            while (timed.size() < iterations) {
                Thread.sleep(LatencyBench.SETTLE_MILLIS);
                for (int i = 0; i < SLICE && timed.size() < iterations; i++) {
                    long start = System.nanoTime();
                    isolated.launch().runOnce();
                    timed.add(new Timed(start, System.nanoTime()));
                }
            }
            LaunchTrace launches = LaunchTrace.parse(Files.readAllLines(trace));
            if (launches.size() == 0) {
                err.println("isolation breakdown: the helper traced nothing into " + trace
                        + "; was it started before " + TRACE_PROPERTY + " was set?");
                return SETUP_FAILED;
            }
            print(out, isolated.description(), analyse(timed, launches));
            return 0;
        } catch (IsolationException | IllegalStateException | IllegalArgumentException | UncheckedIOException e) {
            err.println("isolation breakdown: " + e.getMessage());
            return SETUP_FAILED;
        } catch (IOException e) {
            err.println("isolation breakdown: " + e);
            return SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("isolation breakdown: interrupted");
            return SETUP_FAILED;
        } catch (Exception e) {
            err.println("isolation breakdown: a launch failed: " + e);
            return SETUP_FAILED;
        } finally {
            if (givenRootfs.isEmpty()) {
                BusyboxRootfs.delete(rootfs);
            }
            if (ownTrace && trace != null) {
                try {
                    Files.deleteIfExists(trace);
                } catch (IOException e) {
                    err.println("isolation breakdown: could not delete " + trace + ": " + e);
                }
            }
        }
    }

    /** Lines the timed launches up with the trace and splits them by route. */
    static Analysis analyse(List<Timed> timed, LaunchTrace trace) {
        List<Map.Entry<Timed, Map<Phase, Long>>> spare = new ArrayList<>();
        List<Map.Entry<Timed, Map<Phase, Long>>> direct = new ArrayList<>();
        int unmatched = 0;
        for (Timed launch : timed) {
            Optional<Map<Phase, Long>> phases = trace.receivedBetween(launch.startNanos(), launch.endNanos());
            // "direct" after "spare": the spare died as it was handed the launch, which then went direct
            boolean wentDirect = phases.isPresent() && phases.get().containsKey(Phase.DIRECT);
            if (phases.isPresent() && complete(phases.get(), wentDirect ? DIRECT_ROUTE : SPARE_ROUTE)) {
                (wentDirect ? direct : spare).add(Map.entry(launch, phases.get()));
            } else {
                unmatched++;
            }
        }
        List<Route> routes = new ArrayList<>();
        if (!spare.isEmpty()) {
            routes.add(route("from a spare", SPARE_ROUTE, spare));
        }
        if (!direct.isEmpty()) {
            routes.add(route("direct (no spare ready)", DIRECT_ROUTE, direct));
        }
        return new Analysis(routes, unmatched);
    }

    private static boolean complete(Map<Phase, Long> phases, List<Segment> segments) {
        return segments.stream().allMatch(s -> (s.from() == null || phases.containsKey(s.from()))
                && (s.to() == null || phases.containsKey(s.to())));
    }

    private static Route route(String name, List<Segment> segments, List<Map.Entry<Timed, Map<Phase, Long>>> launches) {
        List<Map.Entry<Timed, Map<Phase, Long>>> byTotal = new ArrayList<>(launches);
        byTotal.sort(Comparator.comparingLong(e -> total(e.getKey())));
        // the slowest 1% (at least one): the launches at or above the p99 of the whole
        int slowestFrom = Math.max(0, (int) Math.ceil(0.99 * byTotal.size()) - 1);
        List<Map.Entry<Timed, Map<Phase, Long>>> slowest = byTotal.subList(slowestFrom, byTotal.size());
        List<SegmentStats> stats = new ArrayList<>();
        for (Segment segment : segments) {
            stats.add(stats(segment.name(), launches.stream().mapToLong(e -> span(segment, e)).toArray(),
                    slowest.stream().mapToLong(e -> span(segment, e)).toArray()));
        }
        SegmentStats whole = stats("whole launch", launches.stream().mapToLong(e -> total(e.getKey())).toArray(),
                slowest.stream().mapToLong(e -> total(e.getKey())).toArray());
        return new Route(name, launches.size(), stats, whole);
    }

    private static long total(Timed launch) {
        return launch.endNanos() - launch.startNanos();
    }

    private static long span(Segment segment, Map.Entry<Timed, Map<Phase, Long>> launch) {
        long from = segment.from() == null ? launch.getKey().startNanos() : launch.getValue().get(segment.from());
        long to = segment.to() == null ? launch.getKey().endNanos() : launch.getValue().get(segment.to());
        return to - from;
    }

    private static SegmentStats stats(String name, long[] all, long[] slowest) {
        Samples samples = new Samples(all);
        return new SegmentStats(name, samples.medianMillis(), samples.quantileMillis(0.90), samples.p99Millis(),
                samples.quantileMillis(1.0), new Samples(slowest).medianMillis());
    }

    static void print(PrintStream out, String description, Analysis analysis) {
        out.println("Where the time of one isolated launch goes: " + description);
        out.println("the helper's and the sandbox's own timestamps (-D" + TRACE_PROPERTY + ") lined up with the JVM's;"
                + " milliseconds; 'slowest 1%': the segment's median among the launches at or above the p99 of the whole");
        for (Route route : analysis.routes()) {
            out.println();
            out.printf("%s: %d launches%n", route.name(), route.launches());
            out.printf("%-44s %8s %8s %8s %8s %11s%n", "segment", "median", "p90", "p99", "max", "slowest 1%");
            for (SegmentStats s : route.segments()) {
                row(out, s);
            }
            row(out, route.whole());
        }
        if (analysis.unmatched() > 0) {
            out.println();
            out.println(analysis.unmatched() + " launch(es) had no complete trace record and are left out");
        }
    }

    private static void row(PrintStream out, SegmentStats s) {
        out.printf("%-44s %8.3f %8.3f %8.3f %8.3f %11.3f%n", s.name(), s.median(), s.p90(), s.p99(), s.max(), s.medianOfSlowest());
    }
}
