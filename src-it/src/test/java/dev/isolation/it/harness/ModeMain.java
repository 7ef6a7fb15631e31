package dev.isolation.it.harness;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The main class of one test JVM: runs the *IT classes of a classpath root with the JUnit Platform
 * Launcher, prints one line per test (failures with their full stack trace), and writes the counts
 * to {@code OUT/results.properties} for the {@link ModeRunner}. Exits 0 whenever the tests ran,
 * whatever their outcome; a non-zero exit means the harness itself broke.
 *
 * <pre>java -cp ... dev.isolation.it.harness.ModeMain --mode MODE --out DIR --scan TEST_CLASSES [--tests REGEX]</pre>
 */
public final class ModeMain {
    static final String RESULTS_FILE = "results.properties";
    static final String CURRENT_TEST_FILE = "current-test";

    private ModeMain() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        try {
            Map<String, String> options = Options.parse(args);
            String mode = options.getOrDefault("mode", "unknown");
            Path outDir = Path.of(options.get("out"));
            Path scan = Path.of(options.get("scan"));
            String tests = options.getOrDefault("tests", ".*IT");
            Files.createDirectories(outDir);

            ModeResult result = run(mode, scan, tests, outDir, out);
            result.write(outDir.resolve(RESULTS_FILE));
            out.printf("%s: %d passed, %d failed, %d skipped in %.1f s%n", mode, result.passed(), result.failed(),
                    result.skipped(), result.millis() / 1000.0);
            out.flush();
            System.exit(0);
        } catch (Throwable t) {
            out.println("ModeMain: the harness failed: " + t);
            t.printStackTrace(out);
            out.flush();
            System.exit(3);
        }
    }

    static ModeResult run(String mode, Path scan, String tests, Path outDir, PrintStream out) {
        LauncherDiscoveryRequest request = request()
                .selectors(selectClasspathRoots(Set.of(scan)))
                .filters(includeClassNamePatterns(classPattern(tests)))
                .build();
        Launcher launcher = LauncherFactory.create();
        long start = System.nanoTime();
        TestPlan plan = launcher.discover(request);
        Listener listener = new Listener(plan, outDir, out);
        out.printf("%s: running %d tests from %s (uid %s, java %s)%n", mode, plan.countTestIdentifiers(TestIdentifier::isTest),
                scan, ProcStatus.effectiveUid(), Runtime.version());
        launcher.execute(plan, listener);
        long millis = (System.nanoTime() - start) / 1_000_000;
        return new ModeResult(listener.passed, listener.failed, listener.skipped, millis, listener.failures, listener.skips);
    }

    /** Class names the runner selects: REGEX, and the @Nested classes inside such classes. */
    static String classPattern(String tests) {
        return "(" + tests + ")(\\$.*)?";
    }

    /** Counts tests per outcome; a failed or aborted class counts each of its tests that did not finish. */
    static final class Listener implements TestExecutionListener {
        private final TestPlan plan;
        private final Path outDir;
        private final PrintStream out;
        private final Set<String> finished = ConcurrentHashMap.newKeySet();
        private final Map<String, Long> started = new ConcurrentHashMap<>();
        int passed;
        int failed;
        int skipped;
        final List<ModeResult.Entry> failures = new ArrayList<>();
        final List<ModeResult.Entry> skips = new ArrayList<>();

        Listener(TestPlan plan, Path outDir, PrintStream out) {
            this.plan = plan;
            this.outDir = outDir;
            this.out = out;
        }

        @Override
        public synchronized void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
            if (id.isTest()) {
                try {
                    Files.writeString(outDir.resolve(CURRENT_TEST_FILE), name(id) + "\n");
                } catch (IOException e) {
                    // only a hint for the runner when a mode times out
                }
            }
        }

        @Override
        public synchronized void executionSkipped(TestIdentifier id, String reason) {
            String why = reason == null ? "disabled" : reason;
            for (TestIdentifier test : testsOf(id)) {
                finished.add(test.getUniqueId());
                skipped++;
            }
            skips.add(new ModeResult.Entry(name(id), why, ""));
            out.println("SKIP  " + name(id) + ": " + why);
            checkpoint();
        }

        /** The counts so far, in the results file: what the runner reports if this JVM never finishes. */
        private void checkpoint() {
            try {
                new ModeResult(passed, failed, skipped, 0, failures, skips).write(outDir.resolve(RESULTS_FILE));
            } catch (IOException e) {
                // the final write reports it
            }
        }

        @Override
        public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
            record(id, result);
            checkpoint();
        }

        private void record(TestIdentifier id, TestExecutionResult result) {
            String name = name(id);
            Long t0 = started.remove(id.getUniqueId());
            String took = t0 == null ? "" : String.format(" (%d ms)", (System.nanoTime() - t0) / 1_000_000);
            Throwable thrown = result.getThrowable().orElse(null);
            switch (result.getStatus()) {
                case SUCCESSFUL -> {
                    if (id.isTest()) {
                        finished.add(id.getUniqueId());
                        passed++;
                        out.println("PASS  " + name + took);
                    }
                }
                case ABORTED -> {
                    String why = thrown == null ? "aborted" : String.valueOf(thrown.getMessage());
                    int count = countUnfinished(id);
                    skipped += count;
                    skips.add(new ModeResult.Entry(name, why, ""));
                    out.println("SKIP  " + name + took + ": " + why);
                }
                case FAILED -> {
                    int count = countUnfinished(id);
                    failed += Math.max(count, 1);
                    String message = thrown == null ? "failed" : thrown.toString();
                    String trace = thrown == null ? "" : stackTrace(thrown);
                    failures.add(new ModeResult.Entry(name, message, trace));
                    out.println("FAIL  " + name + took + (id.isTest() ? "" : " (" + Math.max(count, 1) + " tests)"));
                    out.print(indent(trace.isEmpty() ? message : trace));
                }
            }
        }

        /** Marks the tests at or below id that have not finished yet as finished, and counts them. */
        private int countUnfinished(TestIdentifier id) {
            int count = 0;
            for (TestIdentifier test : testsOf(id)) {
                if (finished.add(test.getUniqueId())) {
                    count++;
                }
            }
            return count;
        }

        private List<TestIdentifier> testsOf(TestIdentifier id) {
            List<TestIdentifier> tests = new ArrayList<>();
            if (id.isTest()) {
                tests.add(id);
            }
            for (TestIdentifier child : plan.getDescendants(id)) {
                if (child.isTest()) {
                    tests.add(child);
                }
            }
            return tests;
        }

        /** "FilesystemIT > mountsProc()": the display names from the class down, without the engine. */
        private String name(TestIdentifier id) {
            List<String> parts = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            TestIdentifier current = id;
            while (current != null && seen.add(current.getUniqueId())) {
                if (current.getParentIdObject().isEmpty()) {
                    if (current == id) {
                        parts.add(0, current.getDisplayName());
                    }
                    break;
                }
                parts.add(0, current.getDisplayName());
                current = plan.getParent(current).orElse(null);
            }
            return String.join(" > ", parts);
        }
    }

    static String stackTrace(Throwable t) {
        StringWriter writer = new StringWriter();
        t.printStackTrace(new PrintWriter(writer));
        return writer.toString();
    }

    static String indent(String text) {
        StringBuilder sb = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (!line.isEmpty()) {
                sb.append("      ").append(line).append('\n');
            }
        }
        return sb.toString();
    }

    /** {@code --name value} pairs. */
    static final class Options {
        static Map<String, String> parse(String[] args) {
            Map<String, String> options = new java.util.HashMap<>();
            for (int i = 0; i < args.length; i++) {
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --name value, got " + args[i]);
                }
                options.put(args[i].substring(2), args[++i]);
            }
            for (String required : List.of("out", "scan")) {
                if (!options.containsKey(required)) {
                    throw new IllegalArgumentException("missing --" + required);
                }
            }
            return options;
        }
    }
}
