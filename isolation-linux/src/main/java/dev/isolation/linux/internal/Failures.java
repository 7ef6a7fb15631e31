package dev.isolation.linux.internal;

import dev.isolation.CommandNotExecutableException;
import dev.isolation.CommandNotFoundException;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.LaunchException;
import dev.isolation.Namespace;
import dev.isolation.UnsupportedHostException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Turns a failed step (from the helper, or from the JVM side) into the right typed exception. */
final class Failures {
    private Failures() {
    }

    static LaunchException fromErrno(String step, String path, int errno) {
        return new LaunchException(step, path, errno, Errno.name(errno), Errno.text(errno), null);
    }

    static LaunchException fromHelper(String step, String path, int errno, IsolatedProcessSpec spec) {
        String name = Errno.name(errno);
        String text = Errno.text(errno);
        if (step.equals("execve")) {
            if (errno == Errno.ENOENT || errno == Errno.ENOTDIR) {
                return new CommandNotFoundException(path, errno, name, text, "the command does not exist inside the sandbox");
            }
            return new CommandNotExecutableException(path, errno, name, text, null);
        }
        if (step.equals("clone")) {
            String remedy = cloneRemedy(errno, spec);
            if (remedy != null) {
                return new UnsupportedHostException(step, path, errno, name, text, remedy);
            }
        }
        if (step.equals("unshare time namespace") && (errno == Errno.EINVAL || errno == Errno.ENOSYS)) {
            return new UnsupportedHostException(step, path, errno, name, text, "This kernel has no time namespaces; they need Linux 5.6");
        }
        if (step.equals("mount proc") && errno == Errno.EPERM) {
            return new UnsupportedHostException(step, path, errno, name, text,
                    "The kernel refuses a new /proc when the host's /proc has parts hidden by over-mounts, as inside an "
                            + "unprivileged container. Run the container with systempaths=unconfined (or --security-opt "
                            + "systempaths=unconfined), or launch without Namespace.PID");
        }
        if (step.equals("newuidmap") || step.equals("newgidmap")) {
            String file = step.equals("newuidmap") ? "/etc/subuid" : "/etc/subgid";
            return new LaunchException(step, path, errno, name, text, step + " refused the mapping: check that " + file
                    + " grants user " + System.getProperty("user.name") + " the host ids mapped");
        }
        String cgroupRemedy = cgroupRemedy(step, errno);
        if (cgroupRemedy != null) {
            return new UnsupportedHostException(step, path, errno, name, text, cgroupRemedy);
        }
        return new LaunchException(step, path, errno, name, text, null);
    }

    /** Advice for a failure of the helper's cgroup steps that a host setting explains, or null. */
    private static String cgroupRemedy(String step, int errno) {
        if (step.equals("set memory.swap.max") && errno == Errno.ENOENT) {
            return "This kernel does not account swap per cgroup (booted with cgroup.memory=noswap, or built without "
                    + "CONFIG_MEMCG_SWAP) while the host has swap, so the sandbox could swap beyond its memory limit; "
                    + "enable swap accounting, or turn swap off (swapoff -a)";
        }
        if (step.equals("set memory.memsw.limit_in_bytes") && errno == Errno.ENOENT) {
            return "A swap allowance needs swap accounting, which this kernel has off: boot it with swapaccount=1";
        }
        boolean cgroupStep = step.equals("create cgroup") || step.equals("join cgroup") || step.startsWith("set ");
        if (cgroupStep && (errno == Errno.EACCES || errno == Errno.EPERM || errno == 30 /* EROFS */)) {
            return "The cgroup filesystem refuses this user; run as root, or start the JVM in a cgroup delegated to the "
                    + "user (cgroup v2: systemd-run --user --scope -p Delegate=yes java ...)";
        }
        return null;
    }

    /** Advice for a clone(2) failure that a host setting explains, or null. */
    private static String cloneRemedy(int errno, IsolatedProcessSpec spec) {
        boolean user = spec.effectiveNamespaces().contains(Namespace.USER) || LibC.geteuid() != 0;
        if (errno == Errno.ENOSPC) {
            return "A namespace limit is reached (/proc/sys/user/max_*_namespaces); raise it, e.g. sysctl -w user.max_user_namespaces=65536";
        }
        if (errno != Errno.EPERM || !user) {
            return null;
        }
        if ("0".equals(read("/proc/sys/kernel/unprivileged_userns_clone"))) {
            return "Unprivileged user namespaces are disabled: run sysctl -w kernel.unprivileged_userns_clone=1";
        }
        if ("0".equals(read("/proc/sys/user/max_user_namespaces"))) {
            return "User namespaces are disabled: run sysctl -w user.max_user_namespaces=65536";
        }
        if ("1".equals(read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"))) {
            return "AppArmor forbids unprivileged user namespaces (as on Ubuntu 23.10 and later): run sysctl -w "
                    + "kernel.apparmor_restrict_unprivileged_userns=0, or give the java binary an AppArmor profile with 'userns,'";
        }
        return "The host forbids creating a user namespace here (a seccomp filter or a container runtime may block it); "
                + "inside Docker, run with --security-opt seccomp=unconfined";
    }

    private static String read(String file) {
        try {
            return Files.readString(Path.of(file)).trim();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
