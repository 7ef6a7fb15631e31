package dev.isolation.examples.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Launches per second of each throughput row, with several threads launching back to back.
 * Like the latency rows, the rows run interleaved: in each of a few rounds every row launches
 * for an equal share of its time, starting from a different row each round, so that the
 * machine's drift over the run (which on this kind of VM moves a row by 10-20%) weighs on all
 * rows alike instead of on whichever row ran while the host was busy.
 */
final class ThroughputBench {
    static final int ROUNDS = 5;

    private ThroughputBench() {
    }

    /** Measures every row; a row that cannot run or fails is reported, not thrown. */
    static List<ThroughputRow> run(List<Subject> subjects, int threads, double seconds, PrintStream progress)
            throws InterruptedException {
        Map<Subject, Optional<String>> problems = new LinkedHashMap<>();
        for (Subject subject : subjects) {
            problems.put(subject, subject.unavailable());
        }
        List<Subject> order = subjects.stream().filter(s -> s.unavailable().isEmpty()).toList();
        progress.printf("bench: throughput: %d rows, %d threads for %s s each, in %d rounds%n", order.size(), threads, seconds, ROUNDS);
        Map<Subject, Burst> warmUp = new HashMap<>();
        for (Subject subject : order) {
            timeBurst(subject, threads, Math.min(1, seconds / 5), warmUp, problems);
        }
        Map<Subject, Burst> totals = new HashMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < order.size(); k++) {
                timeBurst(order.get((round + k) % order.size()), threads, seconds / ROUNDS, totals, problems);
            }
        }
        List<ThroughputRow> rows = new ArrayList<>();
        for (Subject subject : subjects) {
            Optional<String> problem = problems.get(subject);
            rows.add(problem.isPresent() ? new ThroughputRow(subject, Double.NaN, problem)
                    : new ThroughputRow(subject, totals.get(subject).perSecond(), Optional.empty()));
        }
        return rows;
    }

    /** One burst of a row that has not failed, added to its totals; a failure takes the row out. */
    private static void timeBurst(Subject subject, int threads, double seconds, Map<Subject, Burst> totals,
            Map<Subject, Optional<String>> problems) throws InterruptedException {
        if (problems.get(subject).isPresent()) {
            return;
        }
        try {
            totals.merge(subject, burst(subject, threads, seconds), Burst::plus);
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            problems.put(subject, Optional.of("failed: " + e));
        }
    }

    /** Launches completed by bursts and their wall time. */
    record Burst(long launches, long nanos) {
        Burst plus(Burst other) {
            return new Burst(launches + other.launches, nanos + other.nanos);
        }

        double perSecond() {
            return launches / (nanos / 1e9);
        }
    }

    private static Burst burst(Subject subject, int threads, double seconds) throws Exception {
        if (subject.bursts().isPresent()) {
            return subject.bursts().get().run(threads, seconds);
        }
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
        return new Burst(launches.get(), elapsed);
    }
}
