package dev.isolation.examples.bench;

import dev.isolation.InvalidSpecException;
import dev.isolation.UnsupportedHostException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times sequential launches of every row. The warm-up runs in rounds of a few launches of every
 * row until the JIT compilers are nearly done: a round in which they spent at most 1% of its
 * time compiling ends it (or {@value #MAX_WARMUP_ROUNDS} rounds). The timed launches then run in
 * rounds too: each round times a slice of every row, starting from a different row each time,
 * so that any drift of the machine over the run weighs on all rows alike. The first launch of
 * each slice, right after the pause, is also kept apart: it shows what a launch costs from an
 * idle machine.
 */
final class LatencyBench {
    private static final int ROUNDS = 10;
    static final long SETTLE_MILLIS = 100;
    static final int MAX_WARMUP_ROUNDS = 10;
    /** A warm-up round that spent at most this share of its time compiling ends the warm-up. */
    static final double QUIET_JIT_PERCENT = 1;

    private LatencyBench() {
    }

    /** Measures {@code subjects} in the order given; a row that fails is reported, not thrown. */
    static LatencyRun run(List<Subject> subjects, int warmup, int iterations, PrintStream progress) {
        Map<Subject, String> problems = new LinkedHashMap<>();
        Map<Subject, long[]> times = new LinkedHashMap<>();
        int rounds = Math.min(ROUNDS, iterations);
        Map<Subject, long[]> afterPause = new LinkedHashMap<>();
        for (Subject subject : subjects) {
            subject.unavailable().ifPresentOrElse(reason -> problems.put(subject, reason), () -> {
                times.put(subject, new long[iterations]);
                afterPause.put(subject, new long[rounds]);
            });
        }
        progress.printf("bench: latency: %d rows, %s, then %d timed launches each%n", times.size(),
                warmup == 0 ? "no warm-up" : "rounds of " + warmup + " warm-up launches each until the JIT is quiet", iterations);
        int warmupRounds = 0;
        LatencyRun.Span lastWarmupRound = LatencyRun.Span.NONE;
        while (warmup > 0 && warmupRounds < MAX_WARMUP_ROUNDS && !times.isEmpty()) {
            lastWarmupRound = LatencyRun.Span.of(() -> warmUp(times, problems, warmup));
            warmupRounds++;
            progress.printf("bench: latency: warm-up round %d: %d ms of %d ms spent compiling%n", warmupRounds,
                    lastWarmupRound.jitMillis(), lastWarmupRound.wallMillis());
            if (lastWarmupRound.compilingAtMost(QUIET_JIT_PERCENT)) {
                break;
            }
        }
        LatencyRun.Span timed = LatencyRun.Span.of(() -> timeRounds(times, afterPause, problems, iterations, rounds));
        List<LatencyRow> rows = new ArrayList<>();
        for (Subject subject : subjects) {
            rows.add(times.containsKey(subject)
                    ? LatencyRow.measured(subject, new Samples(times.get(subject)), new Samples(afterPause.get(subject)))
                    : LatencyRow.notMeasured(subject, problems.get(subject)));
        }
        return new LatencyRun(rows, warmupRounds, lastWarmupRound, timed);
    }

    private static void warmUp(Map<Subject, long[]> times, Map<Subject, String> problems, int launches) {
        for (Subject subject : List.copyOf(times.keySet())) {
            try {
                for (int i = 0; i < launches; i++) {
                    subject.launch().runOnce();
                }
            } catch (Exception e) {
                fail(subject, e, times, problems);
            }
        }
    }

    private static void timeRounds(Map<Subject, long[]> times, Map<Subject, long[]> afterPause, Map<Subject, String> problems,
            int iterations, int rounds) {
        for (int round = 0; round < rounds; round++) {
            int from = iterations * round / rounds;
            int to = iterations * (round + 1) / rounds;
            List<Subject> live = new ArrayList<>(times.keySet());
            for (int k = 0; k < live.size(); k++) {
                Subject subject = live.get((round + k) % live.size());
                try {
                    settle();
                    timeSlice(subject, times.get(subject), from, to);
                    afterPause.get(subject)[round] = times.get(subject)[from];
                } catch (Exception e) {
                    fail(subject, e, times, problems);
                }
            }
        }
    }

    /**
     * Pauses before a slice, so that work the previous row left to the kernel (namespaces and
     * cgroups torn down in its workers after the processes ended) is done before the next
     * row is timed rather than landing on its first launches.
     */
    private static void settle() throws InterruptedException {
        Thread.sleep(SETTLE_MILLIS);
    }

    private static void timeSlice(Subject subject, long[] into, int from, int to) throws Exception {
        Subject.Launch launch = subject.launch();
        for (int i = from; i < to; i++) {
            long start = System.nanoTime();
            launch.runOnce();
            into[i] = System.nanoTime() - start;
        }
    }

    /**
     * Drops a row that threw. A refusal (the spec is not supported, or the host does not allow
     * it) reads "not available"; anything else "failed".
     */
    private static void fail(Subject subject, Exception e, Map<Subject, long[]> times, Map<Subject, String> problems) {
        if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
        }
        times.remove(subject);
        boolean refused = e instanceof InvalidSpecException || e instanceof UnsupportedHostException;
        problems.put(subject, refused ? "not available: " + e.getMessage() : "failed: " + e);
    }
}
