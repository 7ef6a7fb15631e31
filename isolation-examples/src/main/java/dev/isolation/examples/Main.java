package dev.isolation.examples;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code isolation} command line: {@code run}, {@code probe} and {@code example}.
 *
 * <pre>
 * java -jar isolation-examples.jar run [options] -- COMMAND [ARG...]
 * java -jar isolation-examples.jar probe
 * java -jar isolation-examples.jar example mini-container|build-step|test-helper
 * </pre>
 */
public final class Main {
    /** Exit status when the sandbox could not be set up, or the arguments are wrong. */
    static final int SETUP_FAILED = 125;

    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(List.of(args), System.out, System.err));
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            err.print(usage());
            return SETUP_FAILED;
        }
        List<String> rest = args.subList(1, args.size());
        switch (args.get(0)) {
            case "run":
                return RunCommand.run(rest, out, err);
            case "probe":
                return ProbeCommand.run(out, err);
            case "example":
                return Examples.run(rest, out, err);
            case "bench":
                return dev.isolation.examples.bench.Benchmark.run(rest, out, err);
            case "help":
            case "--help":
            case "-h":
                out.print(usage());
                return 0;
            default:
                err.println("isolation: unknown command " + args.get(0));
                err.print(usage());
                return SETUP_FAILED;
        }
    }

    static String usage() {
        return String.join("\n", Arrays.asList(
                "usage: isolation run [options] -- COMMAND [ARG...]",
                "       isolation probe",
                "       isolation example mini-container|build-step|test-helper",
                "       isolation bench [--iterations N] [--threads-seconds S] [--alive N] (see bench --help)",
                "",
                "run options:",
                "  --rootfs DIR          root filesystem (default: the host root, read-only)",
                "  --writable-root       keep the rootfs writable",
                "  --hostname NAME       hostname inside",
                "  --net none|host       a new network namespace with only lo (default), or the host's",
                "  --map-root            the caller becomes uid/gid 0 inside",
                "  --uid-map IN:OUT:N    a uid range (repeatable); --gid-map likewise",
                "  --bind SRC:DST        bind a host path read-write; --ro-bind SRC:DST read-only",
                "  --tmpfs DST           an empty tmpfs",
                "  --env K=V             an environment variable (repeatable)",
                "  --workdir DIR         working directory inside",
                "  --memory SIZE         memory limit, e.g. 64m (no swap beyond it)",
                "  --pids N              at most N tasks (processes and threads)",
                "  --cpus X              CPU quota in CPUs, e.g. 0.5 or 1.5",
                "  --timeout DURATION    kill the sandbox after e.g. 10s, 500ms, 2m",
                "exit status: the command's; 128+N if signal N killed it; 124 on timeout;",
                "             137 (and a message) if the OOM killer killed a process of the sandbox;",
                "             125 if the sandbox could not be set up; 126 if the command could not be",
                "             executed; 127 if it was not found",
                ""));
    }
}
