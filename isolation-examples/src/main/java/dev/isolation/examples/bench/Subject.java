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
 */
record Subject(String name, String description, Optional<String> unavailable, Launch launch) {

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

    static Subject of(String name, String description, Launch launch) {
        return new Subject(name, description, Optional.empty(), launch);
    }

    static Subject unavailable(String name, String description, String reason) {
        return new Subject(name, description, Optional.of(reason), () -> {
            throw new IllegalStateException(name + " " + reason);
        });
    }
}
