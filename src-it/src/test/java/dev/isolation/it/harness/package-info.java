/**
 * The integration test harness: runs every *IT class of dev.isolation.it in four modes, and a chosen
 * subset of them in two more modes inside a virtual machine, each in a fresh JVM with the module's
 * test classpath, and reports per mode. Started by {@code ./mvnw verify} in the
 * integration-test phase of src-it ({@link dev.isolation.it.harness.ModeRunner}).
 *
 * <h2>Modes</h2>
 * <ul>
 * <li>{@code host-root}: on the host, as root. Needs the build to run as root.</li>
 * <li>{@code host-user}: on the host as the unprivileged user {@code isolation-it} (created with
 * {@code useradd} when missing, with /etc/subuid and /etc/subgid ranges), switched to with setpriv; as the
 * build's own user when the build does not run as root.</li>
 * <li>{@code container-root}: in a privileged container started with Testcontainers, as root. Where
 * {@code --privileged} cannot start (the runtime cannot grant every capability), the fallback grants the
 * host's bounding set, with seccomp, AppArmor and SELinux labels unconfined, /proc and /sys unmasked,
 * and the host's cgroup tree writable ({@link dev.isolation.it.harness.Privileges}).</li>
 * <li>{@code container-user}: the same container, as uid 1000 ({@code isolation-it} in the image,
 * with subordinate ids, and newuidmap/newgidmap when the host has them).</li>
 * <li>{@code vm-cgroup2}: in a qemu virtual machine (TCG) that boots the host's Debian kernel
 * (/boot/vmlinuz-*, package linux-image-amd64) with {@code cgroup_no_v1=all}: pure cgroup v2 with a real
 * kernel behind it, whatever this host has. As root, in the leaf cgroup /isolation-it, no controller
 * enabled. See {@link dev.isolation.it.harness.VmRunner} and src-it/vm.</li>
 * <li>{@code vm-cgroup2-user}: the same VM, as {@code isolation-it} (the build's own user when the build
 * is not root) in /isolation-user, a cgroup delegated to it as systemd's Delegate=yes would (memory,
 * pids and cpu available, the directory and its cgroup.procs, cgroup.subtree_control and cgroup.threads
 * owned by the user, the JVM alone in it).</li>
 * </ul>
 * The VM modes run only the classes named by {@code -Disolation.it.vmTests} (default ResourceLimitsIT,
 * LifecycleIT, NamespacesIT, ProcessIT, HarnessSelfCheckIT; TCG is slow): a named class that does not exist
 * is left out and named in the log, and the runner's {@code -Disolation.it.tests} filters them too. Their
 * test JVM gets {@code -Disolation.it.vmJvmOptions} (default {@code -Disolation.lifecycle.launches=1000}).
 * Without qemu-system-x86_64, a kernel with its modules, or a static /bin/busybox, or when the VM does not
 * boot, a VM mode is skipped with the reason; with CI=true it fails.
 *
 * <h2>What a test JVM finds</h2>
 * <ul>
 * <li>{@code ISOLATION_IT_MODE}: host-root, host-user, container-root, container-user, vm-cgroup2 or
 * vm-cgroup2-user ({@link dev.isolation.it.harness.Mode#current()}).</li>
 * <li>{@code ISOLATION_IT_IN_CONTAINER}, {@code ISOLATION_IT_IN_VM}: true or false;
 * {@code ISOLATION_IT_EXPECTED_UID}: its euid; in the VM, {@code ISOLATION_IT_VM_CGROUP}: the cgroup the
 * runner put the JVM in.</li>
 * <li>{@code CI}, passed on when set; {@code LANG=C.UTF-8}.</li>
 * <li>The working directory is a fresh directory the test user may write; /tmp is writable. In the VM
 * the host's root file system is there read-only (9p), with empty tmpfs on /tmp, /var/tmp, /run, /root
 * and the test user's home; the working directory is the mode's output directory on the host.</li>
 * <li>/bin/busybox (static) and /bin/sh, on the host and in the image.</li>
 * <li>System properties {@code junit.*} and {@code isolation.*} given to Maven are passed on
 * (except the runner's own {@code isolation.it.*}).</li>
 * </ul>
 * A test that cannot apply in a mode should say so with an assumption: locally that is a skip with a
 * reason, in CI (CI=true) every skip fails the run.
 *
 * <h2>The container image</h2>
 * Built without a registry where none answers ({@link dev.isolation.it.harness.RuntimeImage}): the host's
 * JDK 17 and the shared libraries it loads, static busybox with its applets, newuidmap/newgidmap,
 * /etc/passwd, /etc/group, /etc/subuid, /etc/subgid, /tmp; loaded (docker load, one layer) as {@code isolation-it-runtime:host-HASH},
 * HASH being a digest of every input, and reused while it exists. Where a JDK image can be pulled
 * ({@code -Disolation.it.baseImage}, default eclipse-temurin:17-jdk) it is extended with a small Dockerfile
 * instead. {@code -Disolation.it.image=IMG} uses a prepared image as it is: it must have /bin/busybox, a
 * user with uid 1000, and java on PATH or JAVA_HOME in its environment.
 *
 * <h2>Results</h2>
 * Printed at the end, and kept in src-it/target/it-results: summary.txt and one log per mode (for the VM
 * modes, the whole serial console). The VM modes' row names the kernel and whether its cgroup v2 has
 * memory.peak and cgroup.kill.
 */
package dev.isolation.it.harness;
