package dev.isolation.examples;

import dev.isolation.CommandNotExecutableException;
import dev.isolation.CommandNotFoundException;
import dev.isolation.ExitStatus;
import dev.isolation.InvalidSpecException;
import dev.isolation.IsolatedProcess;
import dev.isolation.Isolation;
import dev.isolation.IsolationException;
import dev.isolation.JoinSpec;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import dev.isolation.examples.RunCommand.UsageException;
import java.io.PrintStream;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code isolation join --pid PID [--ns LIST] -- COMMAND}: runs a command in the namespaces of
 * a running process, like {@code nsenter --target PID}, with the terminal's streams. The pid is
 * the host's, as {@code isolation run --print-pid} prints it.
 */
final class JoinCommand {
    private JoinCommand() {
    }

    static int run(List<String> args, PrintStream out, PrintStream err) {
        Options options;
        JoinSpec spec;
        try {
            options = Options.parse(args);
            spec = options.builder.build();
        } catch (UsageException | InvalidSpecException e) {
            err.println("isolation: " + e.getMessage());
            return Main.SETUP_FAILED;
        }
        try (IsolatedProcess process = Isolation.launcher().join(options.pid, spec)) {
            ExitStatus status = process.waitFor();
            return status.shellStatus();
        } catch (CommandNotFoundException e) {
            err.println("isolation: " + e.getMessage());
            return RunCommand.NOT_FOUND;
        } catch (CommandNotExecutableException e) {
            err.println("isolation: " + e.getMessage());
            return RunCommand.NOT_EXECUTABLE;
        } catch (IsolationException e) {
            err.println("isolation: " + e.getMessage());
            return Main.SETUP_FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Main.SETUP_FAILED;
        }
    }

    /** The parsed options of {@code join}. */
    static final class Options {
        final JoinSpec.Builder builder = JoinSpec.builder()
                .stdin(Redirect.INHERIT).stdout(Redirect.INHERIT).stderr(Redirect.INHERIT);
        long pid = -1;

        static Options parse(List<String> args) {
            Options options = new Options();
            int i = 0;
            while (i < args.size() && !args.get(i).equals("--")) {
                String option = args.get(i);
                if (i + 1 >= args.size()) {
                    throw new UsageException(option + " needs a value (see isolation help)");
                }
                options.apply(option, args.get(i + 1));
                i += 2;
            }
            if (options.pid < 0) {
                throw new UsageException("join needs --pid PID, the host pid of a process to join");
            }
            if (i >= args.size() - 1) {
                throw new UsageException("give the command after --, e.g. isolation join --pid 1234 -- /bin/sh");
            }
            options.builder.command(args.subList(i + 1, args.size()));
            return options;
        }

        private void apply(String option, String value) {
            switch (option) {
                case "--pid" -> {
                    pid = number(option, value);
                    if (pid <= 0) {
                        throw new UsageException("--pid takes a process id, got " + value);
                    }
                }
                case "--ns" -> builder.namespaces(namespaces(value));
                case "--uid" -> builder.uid((int) number(option, value));
                case "--gid" -> builder.gid((int) number(option, value));
                case "--workdir" -> builder.workingDirectory(value);
                case "--env" -> {
                    int eq = value.indexOf('=');
                    if (eq <= 0) {
                        throw new UsageException("--env takes NAME=VALUE, got " + value);
                    }
                    builder.putEnvironment(value.substring(0, eq), value.substring(eq + 1));
                }
                default -> throw new UsageException("unknown option " + option + " (see isolation help)");
            }
        }

        /** "user,mnt,pid,net,uts,ipc,cgroup,time", nsenter's and /proc/PID/ns's names. */
        static Set<Namespace> namespaces(String list) {
            Set<Namespace> result = EnumSet.noneOf(Namespace.class);
            for (String name : list.split(",")) {
                result.add(switch (name.trim().toLowerCase(Locale.ROOT)) {
                    case "user" -> Namespace.USER;
                    case "mnt", "mount" -> Namespace.MOUNT;
                    case "pid" -> Namespace.PID;
                    case "net" -> Namespace.NET;
                    case "uts" -> Namespace.UTS;
                    case "ipc" -> Namespace.IPC;
                    case "cgroup" -> Namespace.CGROUP;
                    case "time" -> Namespace.TIME;
                    default -> throw new UsageException("--ns takes a list of user,mnt,pid,net,uts,ipc,cgroup,time; got " + name);
                });
            }
            return result;
        }

        private static long number(String option, String value) {
            try {
                return Long.parseLong(value.trim());
            } catch (NumberFormatException e) {
                throw new UsageException(option + " takes a number, got " + value);
            }
        }
    }
}
