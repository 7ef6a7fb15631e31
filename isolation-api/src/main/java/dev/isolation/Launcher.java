package dev.isolation;

/**
 * Starts isolated processes. Obtain one with {@link Isolation#launcher()}.
 *
 * <p>Thread-safe: many threads may launch at once.
 */
public interface Launcher {

    /**
     * Starts {@code spec}'s command in a new sandbox and returns once the command is executing.
     *
     * @return the handle; close it when done
     * @throws CommandNotFoundException if the command does not exist inside the sandbox
     * @throws CommandNotExecutableException if it exists but cannot be executed
     * @throws UnsupportedHostException if the host does not allow what the spec asks for
     * @throws LaunchException if any other step of the set-up fails; nothing is left behind
     */
    IsolatedProcess launch(IsolatedProcessSpec spec);

    /**
     * Runs a command inside the namespaces of any process, by its host pid, like
     * {@code nsenter --target PID}. The caller needs the privileges nsenter would need. The
     * process is pinned (with a pidfd, Linux 5.3+) before anything of it is opened, so a pid that
     * is reused meanwhile makes the join fail rather than enter another process. Besides the
     * namespaces, the command enters the process's root directory (with its mount namespace) and
     * its cgroups, and runs as its uid and gid unless the spec says otherwise; see
     * {@link IsolatedProcess#join(JoinSpec)}.
     *
     * @throws LaunchException if the process does not exist or cannot be entered
     */
    IsolatedProcess join(long pid, JoinSpec spec);

    /**
     * Checks what this host allows the current user: each namespace, uid/gid mapping, cgroups.
     * Runs small test sandboxes; takes some milliseconds.
     */
    HostReport probe();
}
