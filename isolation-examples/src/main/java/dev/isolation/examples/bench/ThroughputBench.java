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
        List<Subject> live = new ArrayList<>();
        for (Subject subject : subjects) {
            problems.put(subject, subject.unavailable());
            if (subject.unavailable().isEmpty()) {
                live.add(subject);
            }
        }
        Map<Subject, Long> launches = new HashMap<>();
        Map<Subject, Long> nanos = new HashMap<>();
        progress.printf("bench: throughput: %d rows, %d threads for %s s each, in %d rounds%n", live.size(), threads, seconds, ROUNDS);
        for (Subject subject : List.copyOf(live)) {
            try {
                burst(subject, threads, Math.min(1, seconds / 5));
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                problems.put(subject, Optional.of("failed: " + e));
                live.remove(subject);
            }
        }
        List<Subject> order = List.copyOf(live);
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < order.size(); k++) {
                Subject subject = order.get((round + k) % order.size());
                if (!live.contains(subject)) {
                    continue;
                }
                try {
                    Burst burst = burst(subject, threads, seconds / ROUNDS);
                    launches.merge(subject, burst.launches(), Long::sum);
                    nanos.merge(subject, burst.nanos(), Long::sum);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    problems.put(subject, Optional.of("failed: " + e));
                    live.remove(subject);
                }
            }
        }
        List<ThroughputRow> rows = new ArrayList<>();
        for (Subject subject : subjects) {
            Optional<String> problem = problems.get(subject);
            rows.add(problem.isPresent() ? new ThroughputRow(subject, Double.NaN, problem)
                    : new ThroughputRow(subject, launches.get(subject) / (nanos.get(subject) / 1e9), Optional.empty()));
        }
        return rows;
    }

    /** Launches completed by a burst and its wall time. */
    private record Burst(long launches, long nanos) {
    }

    private static Burst burst(Subject subject, int threads, double seconds) throws Exception {
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
