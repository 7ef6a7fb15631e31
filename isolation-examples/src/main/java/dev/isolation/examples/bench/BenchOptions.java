package dev.isolation.examples.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The options of {@code isolation bench}.
 *
 * @param iterations timed launches per latency row
 * @param warmup untimed launches per latency row in each warm-up round (LatencyBench); 0: no warm-up
 * @param threads launching threads in the throughput runs
 * @param threadsSeconds how long each throughput run lasts
 * @param alive how many sandboxes are held alive at once
 * @param rootfs an existing busybox root filesystem to use; empty: a fresh one is made
 */
record BenchOptions(int iterations, int warmup, int threads, double threadsSeconds, int alive, Optional<Path> rootfs) {

    static final String USAGE = "usage: isolation bench [--iterations N] [--warmup N] [--threads N]"
            + " [--threads-seconds S] [--alive N] [--rootfs DIR]\n"
            + "  defaults: --iterations 500 --warmup 100 --threads 2 --threads-seconds 5 --alive 1000,"
            + " a fresh busybox rootfs\n"
            + "  --warmup N: launches of every latency row per warm-up round; rounds repeat (at most 10) until"
            + " one spends at most 1% of its time in the JIT compilers; 0: no warm-up";

    /** The defaults: the whole run takes about a minute on two cores. */
    static BenchOptions defaults() {
        return new BenchOptions(500, 100, 2, 5, 1000, Optional.empty());
    }

    /**
     * Parses {@code --name value} pairs over the defaults.
     *
     * @throws IllegalArgumentException naming the option at fault
     */
    static BenchOptions parse(List<String> args) {
        BenchOptions options = defaults();
        for (int i = 0; i < args.size(); i += 2) {
            String option = args.get(i);
            if (i + 1 >= args.size()) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            options = options.with(option, args.get(i + 1));
        }
        return options;
    }

    private BenchOptions with(String option, String value) {
        return switch (option) {
            case "--iterations" -> new BenchOptions(positive(option, value), warmup, threads, threadsSeconds, alive, rootfs);
            case "--warmup" -> new BenchOptions(iterations, atLeastZero(option, value), threads, threadsSeconds, alive, rootfs);
            case "--threads" -> new BenchOptions(iterations, warmup, positive(option, value), threadsSeconds, alive, rootfs);
            case "--threads-seconds" -> new BenchOptions(iterations, warmup, threads, seconds(option, value), alive, rootfs);
            case "--alive" -> new BenchOptions(iterations, warmup, threads, threadsSeconds, positive(option, value), rootfs);
            case "--rootfs" -> new BenchOptions(iterations, warmup, threads, threadsSeconds, alive,
                    Optional.of(Path.of(value).toAbsolutePath().normalize()));
            default -> throw new IllegalArgumentException("unknown option " + option);
        };
    }

    static int positive(String option, String value) {
        int n = atLeastZero(option, value);
        if (n == 0) {
            throw new IllegalArgumentException(option + " must be at least 1");
        }
        return n;
    }

    static int atLeastZero(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 0) {
                throw new IllegalArgumentException(option + " must not be negative, got " + value);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a whole number, got " + value, e);
        }
    }

    private static double seconds(String option, String value) {
        try {
            double s = Double.parseDouble(value);
            if (!(s > 0) || Double.isInfinite(s)) {
                throw new IllegalArgumentException(option + " must be a positive number of seconds, got " + value);
            }
            return s;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " takes a number of seconds, got " + value, e);
        }
    }
}
