package dev.isolation.examples.bench;

import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Launcher;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Holds many sleeping sandboxes at once and measures what they cost the JVM (threads, retained
 * heap, descriptors) and the library's own processes (PSS), then closes them all and checks
 * that none is left.
 */
final class AliveBench {
    private AliveBench() {
    }

    /**
     * @param spec a sandbox that keeps running until killed, e.g. {@code sleep 60}
     * @param baselineThreads the JVM's threads before the library was first used
     */
    static AliveResult run(Launcher launcher, IsolatedProcessSpec spec, int count, Set<Long> baselineThreads,
            PrintStream progress) throws InterruptedException {
        progress.printf("bench: alive: launching %d sandboxes running %s%n", count, String.join(" ", spec.command()));
        List<IsolatedProcess> handles = new ArrayList<>(count);
        Footprint before = Footprint.take(handles);
        try {
            long start = System.nanoTime();
            Optional<String> problem = launchAll(launcher, spec, count, handles);
            double launchSeconds = (System.nanoTime() - start) / 1e9;

            Footprint alive = Footprint.take(handles);
            Set<Long> sandboxPids = Footprint.pids(handles);
            int stillAlive = (int) handles.stream().filter(IsolatedProcess::isAlive).count();
            List<String> libraryThreads = JvmStats.threadsStartedSince(baselineThreads);
            List<Long> libraryPids = ProcFs.libraryProcesses(sandboxPids);
            long sandboxPss = ProcFs.pssKib(List.copyOf(sandboxPids));

            progress.printf("bench: alive: closing %d sandboxes%n", handles.size());
            long closeStart = System.nanoTime();
            closeAll(handles);
            double closeSeconds = (System.nanoTime() - closeStart) / 1e9;
            int left = (int) sandboxPids.stream().filter(pid -> ProcessHandle.of(pid).isPresent()).count();
            return new AliveResult(count, handles.size(), problem, launchSeconds, stillAlive, before, alive,
                    libraryThreads, libraryPids, sandboxPss, closeSeconds, left);
        } finally {
            closeAll(handles); // when measuring failed; a second close is a no-op otherwise
        }
    }

    /** Launches up to {@code count} sandboxes into {@code handles}; returns why it stopped early, if it did. */
    private static Optional<String> launchAll(Launcher launcher, IsolatedProcessSpec spec, int count, List<IsolatedProcess> handles) {
        try {
            for (int i = 0; i < count; i++) {
                handles.add(launcher.launch(spec));
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            return Optional.of("launch " + (handles.size() + 1) + " failed: " + e.getMessage());
        }
    }

    private static void closeAll(List<IsolatedProcess> handles) {
        for (IsolatedProcess handle : handles) {
            handle.close();
        }
    }
}
