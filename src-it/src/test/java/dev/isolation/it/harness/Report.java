package dev.isolation.it.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * The end of the run: every failure in full (name, message, stack trace), every skip with its reason,
 * every mode that could not run or broke, then the table per mode and the totals line.
 */
final class Report {
    private static final int MAX_TRACE_LINES = 120;
    private static final String RULE = "-".repeat(78);

    /** Counts of one row: a mode's own, completed with what an unavailable or broken mode did not run. */
    record Row(Outcome outcome, int passed, int failed, int skipped) {
    }

    private final List<Row> rows = new ArrayList<>();
    private final boolean ci;
    private final String containers;
    private final long millis;

    Report(List<Outcome> outcomes, int discovered, boolean ci, String containers, long millis) {
        this(outcomes, mode -> discovered, ci, containers, millis);
    }

    /** discovered: how many tests a mode would run (the VM modes run a subset), what an unavailable mode skips. */
    Report(List<Outcome> outcomes, ToIntFunction<Mode> discovered, boolean ci, String containers, long millis) {
        this.ci = ci;
        this.containers = containers;
        this.millis = millis;
        for (Outcome o : outcomes) {
            int known = Math.max(discovered.applyAsInt(o.mode()), 0);
            ModeResult r = o.result();
            switch (o.status()) {
                case RAN -> rows.add(new Row(o, r.passed(), r.failed(), r.skipped()));
                case UNAVAILABLE -> rows.add(new Row(o, 0, 0, known));
                case ERROR -> {
                    int passed = r == null ? 0 : r.passed();
                    int skipped = r == null ? 0 : r.skipped();
                    int failed = r == null ? 0 : r.failed();
                    // what never reported counts as failed, and a broken mode fails at least once
                    failed += Math.max(known - passed - skipped - failed, 0);
                    rows.add(new Row(o, passed, Math.max(failed, 1), skipped));
                }
                case NOT_SELECTED -> rows.add(new Row(o, 0, 0, 0));
            }
        }
    }

    int passed() {
        return rows.stream().mapToInt(Row::passed).sum();
    }

    int failed() {
        return rows.stream().mapToInt(Row::failed).sum();
    }

    int skipped() {
        return rows.stream().mapToInt(Row::skipped).sum();
    }

    private long count(Outcome.Status status) {
        return rows.stream().filter(r -> r.outcome().status() == status).count();
    }

    /** 0 when everything selected ran and passed (and, in CI, nothing was skipped and every mode ran). */
    int exitCode() {
        if (failed() > 0 || count(Outcome.Status.ERROR) > 0) {
            return 1;
        }
        if (ci && (skipped() > 0 || count(Outcome.Status.UNAVAILABLE) > 0)) {
            return 1;
        }
        return 0;
    }

    String render() {
        StringBuilder sb = new StringBuilder();
        sb.append('\n').append("=".repeat(78)).append('\n');
        sb.append("Integration tests by mode\n");
        boolean details = false;
        for (Row row : rows) {
            Outcome o = row.outcome();
            ModeResult r = o.result();
            if (o.earlierCrash() != null) {
                sb.append("CRASHED  ").append(o.mode()).append(" (first attempt; the mode ran again): ").append(o.earlierCrash()).append('\n');
                details = true;
            }
            if (o.status() == Outcome.Status.ERROR) {
                sb.append("BROKEN   ").append(o.mode()).append(": ").append(o.note()).append('\n');
                details = true;
            }
            if (o.status() == Outcome.Status.UNAVAILABLE) {
                sb.append("SKIPPED  ").append(o.mode()).append(" (whole mode): ").append(o.note()).append('\n');
                details = true;
            }
            if (r == null) {
                continue;
            }
            for (ModeResult.Entry f : r.failures()) {
                sb.append("FAILED   ").append(o.mode()).append(": ").append(f.name()).append('\n');
                sb.append(indent(f.trace().isBlank() ? f.message() : f.trace()));
                details = true;
            }
            for (ModeResult.Entry s : r.skips()) {
                sb.append("SKIPPED  ").append(o.mode()).append(": ").append(s.name()).append(": ").append(s.message()).append('\n');
                details = true;
            }
        }
        if (details) {
            sb.append(RULE).append('\n');
        }
        sb.append(String.format("%-16s %7s %7s %8s %8s  %s%n", "mode", "passed", "failed", "skipped", "time", "note"));
        for (Row row : rows) {
            Outcome o = row.outcome();
            String time = o.millis() > 0 ? String.format("%.1fs", o.millis() / 1000.0) : "-";
            String note = switch (o.status()) {
                case RAN -> (o.note() != null ? o.note() : o.mode().container() ? "in container" : "on host")
                        + (o.earlierCrash() != null ? "; RERUN after the test JVM crashed (see CRASHED above)" : "");
                case UNAVAILABLE -> "SKIPPED: " + o.note();
                case ERROR -> "BROKEN: " + o.note();
                case NOT_SELECTED -> o.note();
            };
            if (o.status() == Outcome.Status.NOT_SELECTED) {
                sb.append(String.format("%-16s %7s %7s %8s %8s  %s%n", o.mode(), "-", "-", "-", time, note));
            } else {
                sb.append(String.format("%-16s %7d %7d %8d %8s  %s%n", o.mode(), row.passed(), row.failed(), row.skipped(), time, note));
            }
        }
        if (containers != null && !containers.isBlank()) {
            sb.append("containers: ").append(containers).append('\n');
        }
        sb.append(String.format("total time %.1fs%n", millis / 1000.0));
        if (ci && exitCode() != 0 && failed() == 0 && count(Outcome.Status.ERROR) == 0) {
            sb.append("CI=true: skipped tests or modes that could not run fail this run\n");
        }
        sb.append(RULE).append('\n');
        sb.append(String.format("integration: %d passed, %d failed, %d skipped%n", passed(), failed(), skipped()));
        return sb.toString();
    }

    private static String indent(String text) {
        StringBuilder sb = new StringBuilder();
        String[] lines = text.split("\n");
        int shown = Math.min(lines.length, MAX_TRACE_LINES);
        for (int i = 0; i < shown; i++) {
            sb.append("    ").append(lines[i].stripTrailing()).append('\n');
        }
        if (lines.length > shown) {
            sb.append("    ... ").append(lines.length - shown).append(" more lines in the mode's log\n");
        }
        return sb.toString();
    }
}
