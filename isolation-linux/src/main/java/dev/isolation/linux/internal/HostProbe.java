package dev.isolation.linux.internal;

import dev.isolation.ExitStatus;
import dev.isolation.HostReport;
import dev.isolation.IsolatedProcess;
import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Namespace;
import dev.isolation.Redirect;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** Finds out what this host allows the current user by trying it. */
final class HostProbe {
    private HostProbe() {
    }

    static HostReport run(LinuxLauncher launcher) {
        List<HostReport.Check> checks = new ArrayList<>();
        int uid = LibC.geteuid();
        checks.add(new HostReport.Check("user", true, "uid " + Integer.toUnsignedString(uid) + " gid "
                + Integer.toUnsignedString(LibC.getegid()) + (uid == 0 ? " (root)" : " (unprivileged)")));
        checks.add(sysctl("kernel.unprivileged_userns_clone", "/proc/sys/kernel/unprivileged_userns_clone", "1"));
        checks.add(sysctl("user.max_user_namespaces", "/proc/sys/user/max_user_namespaces", null));
        checks.add(sysctl("kernel.apparmor_restrict_unprivileged_userns", "/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "0"));
        for (Namespace namespace : Namespace.values()) {
            checks.add(tryNamespace(launcher, namespace, uid));
        }
        checks.add(tryRootfsPivot(launcher));
        checks.add(tool("newuidmap"));
        checks.add(tool("newgidmap"));
        checks.add(cgroups(launcher));
        return new HostReport(checks);
    }

    private static HostReport.Check sysctl(String name, String file, String good) {
        Path path = Path.of(file);
        if (!Files.exists(path)) {
            return new HostReport.Check("sysctl " + name, true, "not present on this kernel (no restriction)");
        }
        String value = read(path);
        boolean ok = good == null ? !"0".equals(value) : good.equals(value);
        return new HostReport.Check("sysctl " + name, ok, value + (ok ? "" : " (blocks unprivileged user namespaces)"));
    }

    private static HostReport.Check tryNamespace(LinuxLauncher launcher, Namespace namespace, int uid) {
        Set<Namespace> namespaces = EnumSet.of(namespace);
        if (uid != 0) {
            namespaces.add(Namespace.USER);
        }
        if (namespace == Namespace.PID) {
            namespaces.add(Namespace.MOUNT); // a new PID namespace wants its own /proc
        }
        String name = "namespace " + namespace;
        if (namespace == Namespace.TIME && !Files.exists(Path.of("/proc/self/ns/time"))) {
            return new HostReport.Check(name, false, "this kernel has no time namespaces (Linux 5.6 and later)");
        }
        return attempt(launcher, name, IsolatedProcessSpec.builder().command("true").namespaces(namespaces)
                .stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).stdin(Redirect.DISCARD).build());
    }

    private static HostReport.Check tryRootfsPivot(LinuxLauncher launcher) {
        return attempt(launcher, "pivot_root into a read-only host root", IsolatedProcessSpec.builder()
                .command("true").stdout(Redirect.DISCARD).stderr(Redirect.DISCARD).stdin(Redirect.DISCARD).build());
    }

    private static HostReport.Check attempt(LinuxLauncher launcher, String name, IsolatedProcessSpec spec) {
        try (IsolatedProcess process = launcher.launch(spec)) {
            ExitStatus status = process.waitFor();
            return new HostReport.Check(name, true, "works (test sandbox " + status + ")");
        } catch (RuntimeException e) {
            return new HostReport.Check(name, false, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new HostReport.Check(name, false, "interrupted");
        }
    }

    private static HostReport.Check tool(String name) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin")) {
            Path path = Path.of(dir, name);
            if (Files.isExecutable(path)) {
                return new HostReport.Check("tool " + name, true, path + " (maps several id ranges for unprivileged users)");
            }
        }
        return new HostReport.Check("tool " + name, false,
                "not installed: unprivileged callers can map only their own id; install the uidmap package for more");
    }

    /** Where resource limits would go, decided as a launch with every limit would, without changing anything. */
    private static HostReport.Check cgroups(LinuxLauncher launcher) {
        try {
            long helperPid = launcher.helper().helperPid();
            CgroupLayout.Plan plan = CgroupLayout.plan(CgroupLayout.Host.current(helperPid), new CgroupLayout.Needs(true, true, true));
            StringBuilder detail = new StringBuilder("resource limits work: cgroup ")
                    .append(plan.version() == CgroupLayout.Version.V1 ? "v1" : "v2").append(", sandboxes under ");
            detail.append(String.join(" ", plan.parents().stream().map(CgroupLayout.Parent::dir).toList()));
            plan.actions().stream().filter(a -> a instanceof CgroupLayout.MoveProcesses).findFirst().ifPresent(a -> detail
                    .append("; the first launch with limits moves this JVM into ").append(((CgroupLayout.MoveProcesses) a).to()));
            return new HostReport.Check("cgroups", true, detail.toString());
        } catch (dev.isolation.IsolationException e) {
            return new HostReport.Check("cgroups", false, "resource limits are refused: " + e.getMessage());
        }
    }

    private static String read(Path path) {
        try {
            return Files.readString(path).trim();
        } catch (IOException e) {
            return "unreadable (" + e.getMessage() + ")";
        }
    }
}
