package dev.isolation.examples.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Launches per second of each throughput row, with several threads launching back to back. */
final class ThroughputBench {
    private ThroughputBench() {
    }

    /** Measures every row in turn; a row that cannot run or fails is reported, not thrown. */
    static List<ThroughputRow> run(List<Subject> subjects, int threads, double seconds, PrintStream progress)
            throws InterruptedException {
        List<ThroughputRow> rows = new ArrayList<>();
        for (Subject subject : subjects) {
            if (subject.unavailable().isPresent()) {
                rows.add(new ThroughputRow(subject, Double.NaN, subject.unavailable()));
                continue;
            }
            progress.printf("bench: throughput: %s, %d threads for %s s%n", subject.name(), threads, seconds);
            try {
                rows.add(new ThroughputRow(subject, measure(subject, threads, seconds), Optional.empty()));
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                rows.add(new ThroughputRow(subject, Double.NaN, Optional.of("failed: " + e)));
            }
        }
        return rows;
    }

    /**
     * Runs {@code subject} from {@code threads} threads for {@code seconds} after a short
     * warm-up, and returns the launches completed per second of wall time.
     *
     * @throws Exception the first failure of any launch
     */
    static double measure(Subject subject, int threads, double seconds) throws Exception {
        burst(subject, threads, Math.min(1, seconds / 5));
        return burst(subject, threads, seconds);
    }

    private static double burst(Subject subject, int threads, double seconds) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong launches = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        long duration = (long) (seconds * 1e9);
        AtomicLong deadline = new AtomicLong();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    go.await();
                    while (System.nanoTime() < deadline.get() && failure.get() == null) {
                        subject.launch().runOnce();
                        launches.incrementAndGet();
                    }
                } catch (Exception e) {
                    failure.compareAndSet(null, e);
                }
            }, "bench-launcher-" + t);
            workers.add(worker);
            worker.start();
        }
        long start = System.nanoTime();
        deadline.set(start + duration);
        go.countDown();
        for (Thread worker : workers) {
            worker.join();
        }
        long elapsed = System.nanoTime() - start;
        if (failure.get() != null) {
            throw failure.get();
        }
        return launches.get() / (elapsed / 1e9);
    }
}
