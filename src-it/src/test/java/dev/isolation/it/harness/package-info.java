/**
 * The integration test harness: runs every *IT class of dev.isolation.it in four modes, each in a fresh
 * JVM with the module's test classpath, and reports per mode. Started by {@code ./mvnw verify} in the
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
 * </ul>
 *
 * <h2>What a test JVM finds</h2>
 * <ul>
 * <li>{@code ISOLATION_IT_MODE}: host-root, host-user, container-root or container-user
 * ({@link dev.isolation.it.harness.Mode#current()}).</li>
 * <li>{@code ISOLATION_IT_IN_CONTAINER}: true or false; {@code ISOLATION_IT_EXPECTED_UID}: its euid.</li>
 * <li>{@code CI}, passed on when set; {@code LANG=C.UTF-8}.</li>
 * <li>The working directory is a fresh directory the test user may write; /tmp is writable.</li>
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
 * Printed at the end, and kept in src-it/target/it-results: summary.txt and one log per mode.
 */
package dev.isolation.it.harness;
