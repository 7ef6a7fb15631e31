package dev.isolation.it.harness;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClasspathRoots;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs the integration tests (*IT) in every mode, each in a fresh JVM, and prints per mode how many
 * tests passed, failed and were skipped; the last line is {@code integration: N passed, N failed, N skipped}.
 * Bound to the integration-test phase of src-it (see its pom). Exits non-zero when a test failed, when
 * a mode broke, or, with CI=true, when anything was skipped or a mode could not run here.
 */
public final class ModeRunner {
    private final Settings settings;
    private final PrintStream console;

    private ModeRunner(Settings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
    }

    public static void main(String[] args) {
        PrintStream console = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        int exit;
        try {
            exit = new ModeRunner(Settings.fromSystem(), console).runAll();
        } catch (Throwable t) {
            console.println("harness: the mode runner failed: " + t);
            t.printStackTrace(console);
            exit = 2;
        }
        console.flush();
        System.exit(exit);
    }

    private int runAll() throws IOException {
        long start = System.nanoTime();
        console.println("harness: integration tests in modes " + settings.modes() + (settings.ci() ? " (CI=true: skips fail the run)" : ""));
        Staging staging = Staging.create(System.getProperty("java.class.path"), settings.testClasses());
        if (!settings.keep()) {
            Runtime.getRuntime().addShutdownHook(new Thread(staging::delete, "delete staging"));
        }
        console.println("harness: classpath of " + staging.size() + " entries staged in " + staging.cpDir());
        Files.createDirectories(settings.resultsDir());
        int discovered = discover(staging, settings.tests());
        HostRunner host = new HostRunner(settings);
        ContainerRunner containers = new ContainerRunner(settings, console);
        VmRunner vms = new VmRunner(settings, console);
        VmRunner.Selection vmTests = null;
        int vmDiscovered = -1;
        if (settings.modes().stream().anyMatch(Mode::vm)) {
            vmTests = VmRunner.select(settings.vm().tests(), settings.tests(), Path.of(staging.testClasses(staging.cpDir().toString())));
            vmDiscovered = vmTests.isEmpty() ? 0 : discover(staging, vmTests.regex());
            console.println("harness: the VM modes run " + vmTests.describe());
        }

        List<Outcome> outcomes = new ArrayList<>();
        try {
            for (Mode mode : Mode.values()) {
                outcomes.add(runMode(mode, staging, host, containers, vms, vmTests));
            }
        } finally {
            if (settings.keep()) {
                console.println("harness: kept " + staging.root());
            } else {
                staging.delete();
            }
        }
        int vmCount = vmDiscovered;
        Report report = new Report(outcomes, mode -> mode.vm() ? vmCount : discovered, settings.ci(), containers.describe(),
                (System.nanoTime() - start) / 1_000_000);
        String text = report.render();
        console.print(text);
        Files.writeString(settings.resultsDir().resolve("summary.txt"), text, StandardCharsets.UTF_8);
        return report.exitCode();
    }

    private Outcome runMode(Mode mode, Staging staging, HostRunner host, ContainerRunner containers, VmRunner vms,
            VmRunner.Selection vmTests) {
        if (!settings.modes().contains(mode)) {
            return Outcome.notSelected(mode);
        }
        if (mode.vm() && vmTests.isEmpty()) {
            return Outcome.notSelected(mode, "no test to run in the VM: " + vmTests.describe() + " (-Disolation.it.vmTests)");
        }
        console.println();
        console.println("harness: ===== " + mode + " =====");
        String unavailable;
        try {
            unavailable = mode.vm() ? vms.unavailable(mode) : mode.container() ? containers.unavailable() : host.unavailable(mode);
        } catch (RuntimeException e) {
            console.println("harness: " + mode + " broke: " + e.getMessage());
            return Outcome.error(mode, null, RuntimeImage.oneLine(e), 0);
        }
        if (unavailable != null) {
            console.println("harness: " + mode + " cannot run here: " + unavailable);
            if (mode.vm() && settings.ci()) {
                // the cgroup v2 coverage exists only here: CI must not pass without it
                return Outcome.error(mode, null, unavailable + " (CI=true: the VM modes must run)", 0);
            }
            return Outcome.unavailable(mode, unavailable);
        }
        Outcome first = attempt(mode, staging, host, containers, vms, vmTests, mode.id() + ".log");
        if (first.crash() == null) {
            return first;
        }
        // A JVM that dies of a signal mid-run (seen in the VM under multi-threaded TCG; see VmRunner) says
        // nothing about the tests after it: the mode runs once more, and the report shows both attempts.
        console.println("harness: " + mode + ": the test JVM crashed (" + first.crash() + "); running the mode once more");
        return attempt(mode, staging, host, containers, vms, vmTests, mode.id() + "-rerun.log").after(first);
    }

    private Outcome attempt(Mode mode, Staging staging, HostRunner host, ContainerRunner containers, VmRunner vms,
            VmRunner.Selection vmTests, String logName) {
        long start = System.nanoTime();
        try (LineSink sink = new LineSink(mode.id(), console, settings.resultsDir().resolve(logName))) {
            if (mode.vm()) {
                return vms.run(mode, staging, vmTests, sink);
            }
            if (mode.container()) {
                containers.prepare(staging.root());
                return containers.run(mode, staging, sink);
            }
            return host.run(mode, staging, sink);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            console.println("harness: " + mode + " broke: " + e);
            e.printStackTrace(console);
            return Outcome.error(mode, null, RuntimeImage.oneLine(e), (System.nanoTime() - start) / 1_000_000);
        }
    }

    /** How many tests there are, found here without running them: what an unavailable mode skips. */
    private int discover(Staging staging, String tests) {
        try {
            var plan = LauncherFactory.create().discover(request()
                    .selectors(selectClasspathRoots(Set.of(Path.of(staging.testClasses(staging.cpDir().toString())))))
                    .filters(includeClassNamePatterns(ModeMain.classPattern(tests)))
                    .build());
            return (int) plan.countTestIdentifiers(TestIdentifier::isTest);
        } catch (RuntimeException e) {
            console.println("harness: could not count the tests: " + e);
            return -1;
        }
    }

    /** Reads what a test JVM reported after it ended. */
    static Outcome collect(Mode mode, Path out, int exit, String timedOut, long millis) {
        Path file = out.resolve(ModeMain.RESULTS_FILE);
        ModeResult result = null;
        if (Files.isRegularFile(file)) {
            try {
                result = ModeResult.read(file);
            } catch (IOException | RuntimeException e) {
                return Outcome.error(mode, null, "unreadable results: " + e, millis);
            }
        }
        if (timedOut != null) {
            return Outcome.error(mode, result, timedOut, millis);
        }
        String why = exit == 0 ? "" : JvmCrash.describe(out, exit);
        String because = why.isEmpty() ? "" : ": " + why;
        if (result == null) {
            String reason = "the test JVM exited with code " + exit + " before reporting results (its output is above)" + because;
            return exit > 128 ? Outcome.crashed(mode, reason, why, millis) : Outcome.error(mode, null, reason, millis);
        }
        if (exit != 0) {
            return Outcome.error(mode, result, "the test JVM exited with code " + exit + because, millis);
        }
        if (result.total() == 0) {
            return Outcome.error(mode, result, "no tests matched " + System.getProperty("isolation.it.tests", ".*IT"), millis);
        }
        return Outcome.ran(mode, result, null, millis);
    }

    /** The test that was running when a mode timed out, as the test JVM noted it. */
    static String currentTest(Path out) {
        try {
            Path file = out.resolve(ModeMain.CURRENT_TEST_FILE);
            return Files.isRegularFile(file) ? Files.readString(file).trim() : null;
        } catch (IOException e) {
            return null;
        }
    }
}
