package dev.isolation.examples;

import dev.isolation.CommandNotExecutableException;
import dev.isolation.CommandNotFoundException;
import dev.isolation.ExitStatus;
import dev.isolation.IdMapping;
import dev.isolation.InvalidSpecException;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Isolation;
import dev.isolation.IsolationException;
import dev.isolation.Mount;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** {@code isolation run}: runs one command in a sandbox with the terminal's streams. */
final class RunCommand {
    static final int TIMED_OUT = 124;
    /** 128 + SIGKILL, what a shell reports for a process the OOM killer killed. */
    static final int OOM_KILLED = 137;
    static final int NOT_EXECUTABLE = 126;
    static final int NOT_FOUND = 127;

    private RunCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        IsolatedProcessSpec spec;
        Options options;
        try {
            options = Options.parse(args);
            spec = options.toSpec();
        } catch (UsageException | InvalidSpecException e) {
            err.println("isolation: " + e.getMessage());
            return Main.SETUP_FAILED;
        }
        try (IsolatedProcess process = Isolation.launcher().launch(spec)) {
            if (options.printPid) {
                // for `isolation join --pid N` from another terminal
                err.println("isolation: pid " + process.pid());
                err.flush();
            }
            ExitStatus status = process.waitFor();
            if (status.timedOut()) {
                err.println("isolation: timed out after " + spec.timeout().orElseThrow().toMillis() + " ms; the sandbox was killed");
                return TIMED_OUT;
            }
            if (status.oomKilled()) {
                err.println("isolation: the sandbox was killed by the OOM killer (memory limit "
                        + spec.memoryLimitBytes().orElse(0) + " bytes)");
                return OOM_KILLED;
            }
            return status.shellStatus();
        } catch (CommandNotFoundException e) {
            err.println("isolation: " + e.getMessage());
            return NOT_FOUND;
        } catch (CommandNotExecutableException e) {
            err.println("isolation: " + e.getMessage());
            return NOT_EXECUTABLE;
        } catch (IsolationException e) {
            err.println("isolation: " + e.getMessage());
            return Main.SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.SETUP_FAILED;
        }
    }

    /** A command line that cannot be understood. */
    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** The parsed options of {@code run}. */
    static final class Options {
        final IsolatedProcessSpec.Builder builder = IsolatedProcessSpec.builder()
                .stdin(Redirect.INHERIT).stdout(Redirect.INHERIT).stderr(Redirect.INHERIT);
        final Set<Namespace> namespaces = EnumSet.copyOf(IsolatedProcessSpec.DEFAULT_NAMESPACES);
        boolean mapRoot;
        boolean explicitMaps;
        boolean printPid;

        static Options parse(List<String> args) {
            Options options = new Options();
            int i = 0;
            while (i < args.size() && !args.get(i).equals("--")) {
                String option = args.get(i);
                if (option.equals("--map-root")) {
                    options.mapRoot = true;
                    i++;
                    continue;
                }
                if (option.equals("--print-pid")) {
                    options.printPid = true;
                    i++;
                    continue;
                }
                if (option.equals("--init")) {
                    options.builder.init(true);
                    i++;
                    continue;
                }
                if (option.equals("--writable-root")) {
                    options.builder.writableRoot(true);
                    i++;
                    continue;
                }
                if (i + 1 >= args.size()) {
                    throw new UsageException(option + " needs a value (see isolation help)");
                }
                options.apply(option, args.get(i + 1));
                i += 2;
            }
            if (i >= args.size() - 1) {
                throw new UsageException("give the command after --, e.g. isolation run -- /bin/sh");
            }
            options.builder.command(args.subList(i + 1, args.size()));
            return options;
        }

        private void apply(String option, String value) {
            switch (option) {
                case "--rootfs" -> builder.rootfs(absolute(value));
                case "--hostname" -> builder.hostname(value);
                case "--net" -> {
                    switch (value) {
                        case "none" -> namespaces.add(Namespace.NET);
                        case "host" -> namespaces.remove(Namespace.NET);
                        default -> throw new UsageException("--net takes none or host, got " + value);
                    }
                }
                case "--uid-map" -> {
                    builder.addUidMappings(mapping(option, value));
                    explicitMaps = true;
                }
                case "--gid-map" -> {
                    builder.addGidMappings(mapping(option, value));
                    explicitMaps = true;
                }
                case "--bind" -> builder.addMounts(Mount.bind(absolute(source(option, value)), destination(option, value)));
                case "--ro-bind" -> builder.addMounts(Mount.bindReadOnly(absolute(source(option, value)), destination(option, value)));
                case "--tmpfs" -> builder.addMounts(Mount.tmpfs(value));
                case "--env" -> {
                    int eq = value.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("--env takes NAME=VALUE, got " + value);
                    }
                    builder.putEnvironment(value.substring(0, eq), value.substring(eq + 1));
                }
                case "--workdir" -> builder.workingDirectory(value);
                case "--memory" -> builder.memoryLimitBytes(Sizes.parseBytes(value));
                case "--pids" -> builder.pidsLimit(number(option, value));
                case "--cpus" -> builder.cpuQuota(cpus(value));
                case "--timeout" -> builder.timeout(Sizes.parseDuration(value));
                default -> throw new UsageException("unknown option " + option + " (see isolation help)");
            }
        }

        IsolatedProcessSpec toSpec() {
            builder.namespaces(namespaces);
            if (mapRoot) {
                if (explicitMaps) {
                    throw new UsageException("--map-root and --uid-map/--gid-map exclude each other");
                }
                builder.addUidMappings(IdMapping.single(0, ProcessIds.uid()));
                builder.addGidMappings(IdMapping.single(0, ProcessIds.gid()));
            }
            return builder.build();
        }

        private static long number(String option, String value) {
            try {
                return Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(option + " takes a whole number, got " + value);
            }
        }

        private static double cpus(String value) {
            try {
                double cpus = Double.parseDouble(value.trim());
                if (Double.isNaN(cpus) || Double.isInfinite(cpus)) {
                    throw new NumberFormatException();
                }
                return cpus;
            } catch (NumberFormatException e) {
                throw new UsageException("--cpus takes a number of CPUs such as 1.5, got " + value);
            }
        }

        private static IdMapping mapping(String option, String value) {
            String[] parts = value.split(":");
            if (parts.length != 3) {
                throw new UsageException(option + " takes INSIDE:OUTSIDE:COUNT, got " + value);
            }
            try {
                return IdMapping.of(Long.parseLong(parts[0]), Long.parseLong(parts[1]), Long.parseLong(parts[2]));
            } catch (NumberFormatException e) {
                throw new UsageException(option + " takes numbers INSIDE:OUTSIDE:COUNT, got " + value);
            }
        }

        private static String source(String option, String value) {
            int colon = value.indexOf(':');
            if (colon <= 0 || colon == value.length() - 1) {
                throw new UsageException(option + " takes SOURCE:DESTINATION, got " + value);
            }
            return value.substring(0, colon);
        }

        private static String destination(String option, String value) {
            source(option, value);
            return value.substring(value.indexOf(':') + 1);
        }

        private static Path absolute(String path) {
            return Path.of(path).toAbsolutePath().normalize();
        }
    }

    /** The caller's ids, read from /proc (the CLI is Linux-only anyway). */
    static final class ProcessIds {
        private ProcessIds() {
        }

        static long uid() {
            return field("Uid:");
        }

        static long gid() {
            return field("Gid:");
        }

        private static long field(String key) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith(key)) {
                        return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[1]);
                    }
                }
            } catch (java.io.IOException e) {
                throw new IsolationException("cannot read /proc/self/status: " + e.getMessage(), e);
            }
            throw new IsolationException(key + " missing from /proc/self/status");
        }
    }
}
