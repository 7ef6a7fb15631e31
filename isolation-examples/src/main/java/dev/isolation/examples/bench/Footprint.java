package dev.isolation.examples.bench;

import dev.isolation.IsolatedProcess;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the JVM and the library's own processes hold at one moment.
 *
 * @param threads the JVM's live threads
 * @param heapBytes the JVM's retained heap (after full collections)
 * @param fds the JVM's open descriptors
 * @param libraryPssKib the PSS of the library's own processes (the helper), KiB
 * @param kernelKib the kernel's own memory (slab, kernel stacks, page tables), system-wide, KiB
 */
record Footprint(int threads, long heapBytes, int fds, long libraryPssKib, long kernelKib) {

    /**
     * Measures now. The heap comes first, before anything is allocated for the other figures;
     * the processes of {@code sandboxes} (and below them) are not the library's.
     */
    static Footprint take(List<IsolatedProcess> sandboxes) throws InterruptedException {
        long heap = JvmStats.retainedHeapBytes();
        Set<Long> sandboxPids = pids(sandboxes);
        return new Footprint(JvmStats.threadCount(), heap, ProcFs.openFds(),
                ProcFs.pssKib(ProcFs.libraryProcesses(sandboxPids)), ProcFs.kernelKib());
    }

    /** The host pids of {@code sandboxes}. */
    static Set<Long> pids(List<IsolatedProcess> sandboxes) {
        return sandboxes.stream().map(IsolatedProcess::pid).collect(Collectors.toSet());
    }
}
