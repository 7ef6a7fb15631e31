package dev.isolation.examples.bench;

import java.util.Optional;

/**
 * One row of the benchmark: a way of running a short command to its end.
 *
 * @param name the row's name in the tables
 * @param description what exactly runs
 * @param unavailable why the row cannot be measured here (the reason is printed in its
 *     place), or empty when it can
 * @param launch one launch, waited for until the command exits, then released
 * @param bursts for a row measured by a program of its own (throughput only): runs a whole burst
 *     there; empty for rows whose launches the bench times itself
 */
record Subject(String name, String description, Optional<String> unavailable, Launch launch, Optional<Bursts> bursts) {

    /** One launch of a subject. Safe to call from several threads at once. */
    @FunctionalInterface
    interface Launch {
        /**
         * Launches the command, waits for it to exit and releases what the launch holds.
         *
         * @throws Exception when the launch fails or the command does not exit with status 0
         */
        void runOnce() throws Exception;
    }

    /**
     * A burst of launches that a row's own program makes, with its own workers, and counts.
     */
    @FunctionalInterface
    interface Bursts {
        /**
         * Launches back to back with {@code workers} workers for about {@code seconds}.
         *
         * @return the launches completed and the time they took
         * @throws Exception when the program fails
         */
        ThroughputBench.Burst run(int workers, double seconds) throws Exception;
    }

    static Subject of(String name, String description, Launch launch) {
        return new Subject(name, description, Optional.empty(), launch, Optional.empty());
    }

    /** A throughput row measured by a program of its own; it has no single launch to time. */
    static Subject ofBursts(String name, String description, Bursts bursts) {
        return new Subject(name, description, Optional.empty(), () -> {
            throw new IllegalStateException(name + " is measured in bursts only");
        }, Optional.of(bursts));
    }

    static Subject unavailable(String name, String description, String reason) {
        return new Subject(name, description, Optional.of(reason), () -> {
            throw new IllegalStateException(name + " " + reason);
        }, Optional.empty());
    }
}
