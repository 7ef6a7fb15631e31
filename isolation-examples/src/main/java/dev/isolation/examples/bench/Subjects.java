package dev.isolation.examples.bench;

import dev.isolation.ExitStatus;
import dev.isolation.InvalidSpecException;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Launcher;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The benchmark's rows: the library's sandboxes and the peers it is measured against, each
 * running {@code true} to its end, with standard streams on {@code /dev/null} unless the row
 * says pipes.
 */
final class Subjects {
    static final String ISOLATED = "isolated";
    static final String ISOLATED_NET = "isolated-net";
    static final String ISOLATED_MEMORY_LIMIT = "isolated-memory-limit";
    static final String PB_TRUE = "pb-true";
    static final String PB_BWRAP = "pb-bwrap";

    /** The limit the memory-limit row asks for. */
    static final long MEMORY_LIMIT_BYTES = 64L << 20;

    private static final Set<Namespace> NAMESPACES = EnumSet.of(
            Namespace.USER, Namespace.PID, Namespace.MOUNT, Namespace.UTS, Namespace.IPC);
    private static final String NAMESPACES_TEXT = "user,pid,mount,uts,ipc namespaces";
    private static final File DEV_NULL = new File("/dev/null");

    private final Launcher launcher;
    private final Path rootfs;

    Subjects(Launcher launcher, Path rootfs) {
        this.launcher = launcher;
        this.rootfs = rootfs;
    }

    /** Every latency row, the library's first. */
    List<Subject> latencyRows() {
        List<Subject> rows = new ArrayList<>();
        rows.add(isolated());
        rows.add(isolated(ISOLATED_NET, "same plus a network namespace", spec -> spec.addNamespaces(Namespace.NET)));
        rows.add(isolated(ISOLATED_MEMORY_LIMIT, "same plus a 64 MiB memory limit", spec -> spec.memoryLimitBytes(MEMORY_LIMIT_BYTES)));
        rows.add(isolated("isolated-pipes", "same as isolated, default stdio (three pipes)",
                spec -> spec.stdin(Redirect.PIPE).stdout(Redirect.PIPE).stderr(Redirect.PIPE)));
        rows.add(pbTrue());
        rows.add(command("pb-true-pipes", "ProcessBuilder /bin/true, default stdio (three pipes)", List.of("/bin/true"), true));
        rows.add(command("pb-busybox-true", "ProcessBuilder ROOTFS/bin/true: the static busybox the sandboxes run, no isolation",
                List.of(rootfs.resolve("bin/true").toString()), false));
        rows.add(bwrap(false));
        rows.add(bwrap(true));
        rows.add(unshare(false));
        rows.add(unshare(true));
        return rows;
    }

    /** The rows of the throughput runs. */
    List<Subject> throughputRows() {
        return List.of(isolated(), pbTrue(), bwrap(false), KernelFloor.subject(rootfs));
    }

    /** The main row: user, PID, mount, UTS and IPC namespaces, the busybox root entered with pivot_root. */
    Subject isolated() {
        return isolated(ISOLATED, NAMESPACES_TEXT + "; busybox rootfs (pivot_root); stdio /dev/null", UnaryOperator.identity());
    }

    /** The main row's sandbox running {@code sleep SECONDS} instead of {@code true}. */
    IsolatedProcessSpec sleepSpec(int seconds) {
        return base().command("/bin/sleep", Integer.toString(seconds)).build();
    }

    private IsolatedProcessSpec.Builder base() {
        return IsolatedProcessSpec.builder()
                .command("/bin/true")
                .namespaces(NAMESPACES)
                .rootfs(rootfs)
                .stdin(Redirect.DISCARD)
                .stdout(Redirect.DISCARD)
                .stderr(Redirect.DISCARD);
    }

    private Subject isolated(String name, String description, UnaryOperator<IsolatedProcessSpec.Builder> change) {
        IsolatedProcessSpec spec;
        try {
            spec = change.apply(base()).build();
        } catch (InvalidSpecException e) {
            return Subject.unavailable(name, description, "not available: " + e.getMessage());
        }
        return Subject.of(name, description, () -> {
            try (IsolatedProcess process = launcher.launch(spec)) {
                ExitStatus status = process.waitFor();
                if (!status.succeeded()) {
                    throw new IllegalStateException(name + ": /bin/true " + status);
                }
            }
        });
    }

    private static Subject pbTrue() {
        return command(PB_TRUE, "ProcessBuilder /bin/true (the host's, dynamically linked), no isolation", List.of("/bin/true"), false);
    }

    private Subject bwrap(boolean net) {
        String name = net ? "pb-bwrap-net" : PB_BWRAP;
        List<String> arguments = new ArrayList<>(List.of("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts"));
        if (net) {
            arguments.add("--unshare-net");
        }
        arguments.addAll(List.of("--ro-bind", rootfs.toString(), "/", "--proc", "/proc", "--dev", "/dev", "/bin/true"));
        return tool(name, "bwrap", arguments);
    }

    private static Subject unshare(boolean net) {
        String name = net ? "pb-unshare-net" : "pb-unshare";
        List<String> arguments = new ArrayList<>(List.of("--user", "--map-root-user", "--pid", "--fork", "--mount", "--uts", "--ipc"));
        if (net) {
            arguments.add("--net");
        }
        arguments.add("/bin/true");
        return tool(name, "unshare", arguments);
    }

    /** A ProcessBuilder row running a tool from PATH, or a missing row when it is not installed. */
    private static Subject tool(String name, String tool, List<String> arguments) {
        String description = "ProcessBuilder " + tool + " " + String.join(" ", arguments);
        Optional<Path> executable = onPath(tool);
        if (executable.isEmpty()) {
            return Subject.unavailable(name, description, "missing: " + tool + " is not on PATH");
        }
        List<String> command = new ArrayList<>();
        command.add(executable.get().toString());
        command.addAll(arguments);
        return command(name, description, command, false);
    }

    private static Subject command(String name, String description, List<String> command, boolean pipes) {
        return Subject.of(name, description, () -> {
            ProcessBuilder builder = new ProcessBuilder(command);
            if (!pipes) {
                builder.redirectInput(DEV_NULL)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectError(ProcessBuilder.Redirect.DISCARD);
            }
            Process process = builder.start();
            int code = process.waitFor();
            closeStreams(process);
            if (code != 0) {
                throw new IllegalStateException(name + ": " + String.join(" ", command) + " exited " + code);
            }
        });
    }

    private static void closeStreams(Process process) throws IOException {
        process.getOutputStream().close();
        process.getInputStream().close();
        process.getErrorStream().close();
    }

    private static Optional<Path> onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, tool);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate.toAbsolutePath());
            }
        }
        return Optional.empty();
    }
}
