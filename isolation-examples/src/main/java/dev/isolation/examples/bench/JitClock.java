package dev.isolation.examples.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Optional;

/**
 * The time the JVM's JIT compilers have spent compiling so far. The latency run warms up until
 * compiling stops taking a noticeable share of the time: on two cores a compiler thread busy for
 * a few milliseconds delays whatever launch is queued behind it on that core, so compiling left
 * over from a short warm-up shows up as the slowest launches, the p99.
 */
final class JitClock {
    private static final Optional<CompilationMXBean> COMPILER = Optional.ofNullable(ManagementFactory.getCompilationMXBean())
            .filter(CompilationMXBean::isCompilationTimeMonitoringSupported);

    private JitClock() {
    }

    /** Whether this JVM reports its compilation time; when not, {@link #millis()} stays at zero. */
    static boolean supported() {
        return COMPILER.isPresent();
    }

    /** Milliseconds spent compiling since the JVM started, summed over the compiler threads. */
    static long millis() {
        return COMPILER.map(CompilationMXBean::getTotalCompilationTime).orElse(0L);
    }
}
