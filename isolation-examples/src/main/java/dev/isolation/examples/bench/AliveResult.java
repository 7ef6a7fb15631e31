package dev.isolation.examples.bench;

import java.util.List;
import java.util.Optional;

/**
 * What holding many sandboxes alive at once cost.
 *
 * @param requested how many sandboxes were asked for
 * @param launched how many were launched
 * @param launchProblem why launching stopped early, when it did
 * @param launchSeconds how long the launches took
 * @param stillAlive how many were still running when measured
 * @param before the footprint just before the first of them was launched
 * @param alive the footprint while all of them ran
 * @param libraryThreads the names of the threads started since the benchmark began, other
 *     than the benchmark's own and the ProcessBuilder peers' reapers
 * @param libraryPids the library's own processes (the helper) while they ran
 * @param sandboxPssKib the sandboxes' own PSS while they ran: the command's memory
 * @param closeSeconds how long closing all of them took
 * @param leftAfterClose sandbox processes still present after every handle was closed
 */
record AliveResult(int requested, int launched, Optional<String> launchProblem, double launchSeconds, int stillAlive,
        Footprint before, Footprint alive, List<String> libraryThreads, List<Long> libraryPids, long sandboxPssKib,
        double closeSeconds, int leftAfterClose) {

    double heapPerHandleKib() {
        return perSandbox(alive.heapBytes() - before.heapBytes()) / 1024;
    }

    double libraryPssPerSandboxKib() {
        return perSandbox(alive.libraryPssKib() - before.libraryPssKib());
    }

    double sandboxPssEachKib() {
        return perSandbox(sandboxPssKib);
    }

    double fdsPerHandle() {
        return perSandbox(alive.fds() - before.fds());
    }

    double kernelPerSandboxKib() {
        return perSandbox(alive.kernelKib() - before.kernelKib());
    }

    private double perSandbox(double total) {
        return launched == 0 ? Double.NaN : total / launched;
    }
}
