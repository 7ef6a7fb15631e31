package dev.isolation.examples.bench;

import java.util.List;

/**
 * What the latency run measured, and how warm the JVM was while it did.
 *
 * @param rows one per subject, in the order given
 * @param warmupRounds how many warm-up rounds ran (each: the warm-up count of launches of every row)
 * @param lastWarmupRound the last warm-up round's wall time and the JIT's compiling time within it
 * @param timed the whole timed part's wall time and the JIT's compiling time within it
 */
record LatencyRun(List<LatencyRow> rows, int warmupRounds, Span lastWarmupRound, Span timed) {

    /**
     * A stretch of the run.
     *
     * @param wallMillis how long it took
     * @param jitMillis how long the JIT compilers spent compiling during it (summed over their threads)
     */
    record Span(long wallMillis, long jitMillis) {
        static final Span NONE = new Span(0, 0);

        /** Measures {@code work} by the wall clock and the JIT's clock. */
        static <E extends Exception> Span of(Work<E> work) throws E {
            long wall = System.nanoTime();
            long jit = JitClock.millis();
            work.run();
            return new Span((System.nanoTime() - wall) / 1_000_000, JitClock.millis() - jit);
        }

        /** Whether compiling took at most {@code percent} of this stretch's wall time. */
        boolean compilingAtMost(double percent) {
            return jitMillis <= wallMillis * percent / 100;
        }
    }

    /** Work measured by {@link Span#of}. */
    @FunctionalInterface
    interface Work<E extends Exception> {
        void run() throws E;
    }
}
