package dev.isolation.examples.bench;

import java.util.Arrays;

/** The latencies of one row's timed launches. Immutable. */
final class Samples {
    private static final double NANOS_PER_MILLI = 1e6;

    private final long[] sortedNanos;

    Samples(long[] nanos) {
        if (nanos.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        sortedNanos = nanos.clone();
        Arrays.sort(sortedNanos);
    }

    int count() {
        return sortedNanos.length;
    }

    double medianMillis() {
        int n = sortedNanos.length;
        long middle = n % 2 == 1 ? sortedNanos[n / 2] * 2 : sortedNanos[n / 2 - 1] + sortedNanos[n / 2];
        return middle / 2.0 / NANOS_PER_MILLI;
    }

    /** The 99th percentile, nearest rank: 99% of the launches took at most this long. */
    double p99Millis() {
        return quantileMillis(0.99);
    }

    /** The {@code q} quantile (0 to 1), nearest rank; 1 is the maximum. */
    double quantileMillis(double q) {
        if (!(q >= 0 && q <= 1)) {
            throw new IllegalArgumentException("a quantile is between 0 and 1, not " + q);
        }
        int rank = (int) Math.ceil(q * sortedNanos.length);
        return sortedNanos[Math.max(0, rank - 1)] / NANOS_PER_MILLI;
    }
}
