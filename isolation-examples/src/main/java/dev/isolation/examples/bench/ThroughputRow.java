package dev.isolation.examples.bench;

import java.util.Optional;

/**
 * A throughput row's outcome.
 *
 * @param subject the row
 * @param launchesPerSecond launches completed per second, NaN when not measured
 * @param problem why it was not measured, when not
 */
record ThroughputRow(Subject subject, double launchesPerSecond, Optional<String> problem) {

    String name() {
        return subject.name();
    }
}
