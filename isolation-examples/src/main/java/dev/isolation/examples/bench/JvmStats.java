package dev.isolation.examples.bench;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** The JVM's own threads and heap, as the alive run measures them. */
final class JvmStats {
    /** The JDK's threads that reap ProcessBuilder's children: the peers', not the library's. */
    private static final String JDK_PROCESS_REAPER = "process reaper";
    /** The benchmark's own threads are named with this prefix. */
    private static final String BENCH_PREFIX = "bench-";
    private static final int GC_PASSES = 4;

    private JvmStats() {
    }

    /** The ids of the threads alive now. */
    static Set<Long> threadIds() {
        return Thread.getAllStackTraces().keySet().stream().map(Thread::getId).collect(Collectors.toSet());
    }

    /** How many threads are alive now. */
    static int threadCount() {
        return ManagementFactory.getThreadMXBean().getThreadCount();
    }

    /**
     * The names of the threads alive now that were not alive at {@code baseline}, leaving out
     * the benchmark's own and the JDK's process reapers (which the ProcessBuilder peers start).
     * Taken with a baseline from before the first launch, these are the library's threads.
     */
    static List<String> threadsStartedSince(Set<Long> baseline) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(thread -> !baseline.contains(thread.getId()))
                .map(Thread::getName)
                .filter(name -> !name.equals(JDK_PROCESS_REAPER) && !name.startsWith(BENCH_PREFIX))
                .sorted()
                .toList();
    }

    /**
     * The heap in use after full collections: what is retained, not garbage. Collects until the
     * figure stops falling (at most a few times).
     */
    static long retainedHeapBytes() throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int pass = 0; pass < GC_PASSES; pass++) {
            System.gc();
            Thread.sleep(50);
            long now = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            if (now >= used) {
                return used;
            }
            used = now;
        }
        return used;
    }
}
