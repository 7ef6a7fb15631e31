package dev.isolation.examples.bench;

import java.util.Optional;

/**
 * A latency row's outcome: its samples, or why there are none.
 *
 * @param subject the row
 * @param samples the timed launches, when the row was measured
 * @param afterPause the first launch of each slice, timed right after the pause before it
 *     (also among {@code samples})
 * @param problem why it was not ("not available: ...", "missing: ...", "failed: ..."), when not
 */
record LatencyRow(Subject subject, Optional<Samples> samples, Optional<Samples> afterPause, Optional<String> problem) {

    static LatencyRow measured(Subject subject, Samples samples, Samples afterPause) {
        return new LatencyRow(subject, Optional.of(samples), Optional.of(afterPause), Optional.empty());
    }

    static LatencyRow notMeasured(Subject subject, String problem) {
        return new LatencyRow(subject, Optional.empty(), Optional.empty(), Optional.of(problem));
    }

    String name() {
        return subject.name();
    }

    /** The median in milliseconds, NaN when not measured. */
    double medianMillis() {
        return samples.map(Samples::medianMillis).orElse(Double.NaN);
    }

    /** The median of the launches right after a pause, in milliseconds; NaN when not measured. */
    double afterPauseMedianMillis() {
        return afterPause.map(Samples::medianMillis).orElse(Double.NaN);
    }

    /** The 99th percentile in milliseconds, NaN when not measured. */
    double p99Millis() {
        return samples.map(Samples::p99Millis).orElse(Double.NaN);
    }
}
