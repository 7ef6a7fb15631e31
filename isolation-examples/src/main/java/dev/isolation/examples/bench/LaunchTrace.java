package dev.isolation.examples.bench;

import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The trace the native helper writes with {@code -Disolation.trace=FILE}: a line per launch
 * phase, {@code LAUNCH_ID PHASE NANOS}, the time on {@code CLOCK_MONOTONIC} (the clock of
 * {@link System#nanoTime()} on Linux), from the helper and from the sandboxes themselves.
 * Immutable.
 */
final class LaunchTrace {
    /** The phases the helper and the sandboxes record, in the order they happen. */
    enum Phase {
        /** The helper read the LAUNCH frame. */
        RECEIVED,
        /** The helper hands the launch to a spare made ahead (just before it sends it). */
        SPARE,
        /** The helper cloned a sandbox for the launch (no spare was ready) and releases it. */
        DIRECT,
        /** The sandbox began its part of the launch (a spare: it read the launch). */
        RELEASED,
        /** The sandbox calls execve. */
        EXEC,
        /** The helper saw the exec succeed and sends STARTED. */
        STARTED,
        /** The helper reaped the command and sends EXITED. */
        EXITED;

        static Phase named(String name) {
            return valueOf(name.toUpperCase(Locale.ROOT));
        }
    }

    /** By the time each launch was received: the launches, not their ids, are what a caller timed. */
    private final NavigableMap<Long, Map<Phase, Long>> byReceived;

    private LaunchTrace(NavigableMap<Long, Map<Phase, Long>> byReceived) {
        this.byReceived = byReceived;
    }

    /**
     * Reads a trace's lines. A launch without a {@code received} line (a join, or a trace begun
     * mid-launch) is left out.
     *
     * @throws IllegalArgumentException naming the line that is not {@code ID PHASE NANOS}
     */
    static LaunchTrace parse(List<String> lines) {
        Map<Long, Map<Phase, Long>> byId = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] fields = line.trim().split(" ");
            try {
                if (fields.length != 3) {
                    throw new IllegalArgumentException("3 fields expected");
                }
                long id = Long.parseUnsignedLong(fields[0]);
                Phase phase = Phase.named(fields[1]);
                long nanos = Long.parseLong(fields[2]);
                byId.computeIfAbsent(id, k -> new EnumMap<>(Phase.class)).put(phase, nanos);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("trace line " + (i + 1) + " is not \"LAUNCH_ID PHASE NANOS\": \"" + line + "\"", e);
            }
        }
        NavigableMap<Long, Map<Phase, Long>> byReceived = new TreeMap<>();
        for (Map<Phase, Long> phases : byId.values()) {
            Long received = phases.get(Phase.RECEIVED);
            if (received != null) {
                byReceived.put(received, Collections.unmodifiableMap(phases));
            }
        }
        return new LaunchTrace(byReceived);
    }

    /** The launches traced. */
    int size() {
        return byReceived.size();
    }

    /**
     * The phases of the launch the helper received between {@code startNanos} and
     * {@code endNanos}, for a caller that launched one at a time and timed each; empty when
     * there is none, or more than one (then the window does not tell which).
     */
    Optional<Map<Phase, Long>> receivedBetween(long startNanos, long endNanos) {
        NavigableMap<Long, Map<Phase, Long>> window = byReceived.subMap(startNanos, true, endNanos, true);
        return window.size() == 1 ? Optional.of(window.firstEntry().getValue()) : Optional.empty();
    }
}
