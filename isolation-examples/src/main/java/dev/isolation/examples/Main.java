package dev.isolation.examples;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code isolation} command line: {@code run}, {@code join}, {@code probe} and {@code example}.
 *
 * <pre>
 * java -jar isolation-examples.jar run [options] -- COMMAND [ARG...]
 * java -jar isolation-examples.jar join --pid PID [--ns LIST] -- COMMAND [ARG...]
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
            case "join":
                return JoinCommand.run(rest, out, err);
            case "probe":
                return ProbeCommand.run(out, err);
            case "example":
                return Examples.run(rest, out, err);
            case "bench":
                return dev.isolation.examples.bench.Benchmark.run(rest, out, err);
            case "breakdown":
                return dev.isolation.examples.bench.Breakdown.run(rest, out, err);
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
                "       isolation join --pid PID [--ns LIST] [join options] -- COMMAND [ARG...]",
                "       isolation probe",
                "       isolation example mini-container|build-step|test-helper",
                "       isolation bench [--iterations N] [--threads-seconds S] [--alive N] (see bench --help)",
                "       isolation breakdown [--iterations N] [--warmup N] (where a launch's time goes; see breakdown --help)",
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
                "  --init                a minimal init as PID 1: reaps orphans, forwards signals",
                "  --print-pid           print \"isolation: pid N\" (the host pid) on stderr at start",
                "exit status: the command's; 128+N if signal N killed it; 124 on timeout;",
                "             137 (and a message) if the OOM killer killed a process of the sandbox;",
                "             125 if the sandbox could not be set up; 126 if the command could not be",
                "             executed; 127 if it was not found",
                "",
                "join (like nsenter --target PID): runs COMMAND in the namespaces, root, cgroup and",
                "identity of process PID, e.g. a sandbox started with run --print-pid:",
                "  --pid PID             the host pid of the process to join (required)",
                "  --ns LIST             only these, of user,mnt,pid,net,uts,ipc,cgroup,time",
                "                        (default: every one it does not share with us)",
                "  --uid N, --gid N      run as these ids (default: the target's)",
                "  --workdir DIR         working directory (default /); --env K=V (repeatable)",
                "exit status: as for run",
                ""));
    }
}
