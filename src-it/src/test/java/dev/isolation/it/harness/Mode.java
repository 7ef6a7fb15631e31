package dev.isolation.it.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ways the integration tests are run. The id is what tests see in {@code ISOLATION_IT_MODE}. The
 * vm-* modes run a chosen subset of the tests in a qemu virtual machine booted with Debian's kernel
 * on pure cgroup v2 ({@link VmRunner}).
 */
public enum Mode {
    HOST_ROOT("host-root", false, true, false),
    HOST_USER("host-user", false, false, false),
    CONTAINER_ROOT("container-root", true, true, false),
    CONTAINER_USER("container-user", true, false, false),
    VM_CGROUP2("vm-cgroup2", false, true, true),
    VM_CGROUP2_USER("vm-cgroup2-user", false, false, true);

    /** The environment variable that tells a test JVM its mode. */
    public static final String ENV_MODE = "ISOLATION_IT_MODE";
    /** "true" in container modes, "false" on the host. */
    public static final String ENV_IN_CONTAINER = "ISOLATION_IT_IN_CONTAINER";
    /** The effective uid the runner starts the test JVM with. */
    public static final String ENV_EXPECTED_UID = "ISOLATION_IT_EXPECTED_UID";
    /** "true" in the vm-* modes (a separate kernel in qemu), "false" elsewhere. */
    public static final String ENV_IN_VM = "ISOLATION_IT_IN_VM";
    /** The runner's /proc/sys/kernel/random/boot_id: the same on the host and in a container, another one in the VM. */
    public static final String ENV_RUNNER_BOOT_ID = "ISOLATION_IT_RUNNER_BOOT_ID";
    /** In the vm-* modes: the cgroup (as in /proc/self/cgroup) the runner put the test JVM in. */
    public static final String ENV_VM_CGROUP = "ISOLATION_IT_VM_CGROUP";
    /** The runner's own namespaces, "mnt:[...] pid:[...] uts:[...]": a test JVM on the host shares them, one in a container does not. */
    public static final String ENV_RUNNER_NAMESPACES = "ISOLATION_IT_RUNNER_NAMESPACES";

    private final String id;
    private final boolean container;
    private final boolean root;
    private final boolean vm;

    Mode(String id, boolean container, boolean root, boolean vm) {
        this.id = id;
        this.container = container;
        this.root = root;
        this.vm = vm;
    }

    public String id() {
        return id;
    }

    public boolean container() {
        return container;
    }

    public boolean root() {
        return root;
    }

    /** Runs in a virtual machine with its own kernel (cgroup v2 only). */
    public boolean vm() {
        return vm;
    }

    /** The mode this JVM runs in, from {@code ISOLATION_IT_MODE}; null when not started by the runner. */
    public static Mode current() {
        String value = System.getenv(ENV_MODE);
        return value == null || value.isBlank() ? null : parse(value);
    }

    public static Mode parse(String id) {
        String wanted = id.trim().toLowerCase(Locale.ROOT);
        for (Mode mode : values()) {
            if (mode.id.equals(wanted)) {
                return mode;
            }
        }
        List<String> ids = new ArrayList<>();
        for (Mode mode : values()) {
            ids.add(mode.id);
        }
        throw new IllegalArgumentException("unknown mode '" + id + "', expected one of " + String.join(", ", ids));
    }

    /** Parses a comma separated list; blank means all modes. */
    public static List<Mode> parseList(String ids) {
        if (ids == null || ids.isBlank()) {
            return List.of(values());
        }
        List<Mode> modes = new ArrayList<>();
        for (String id : ids.split(",")) {
            if (!id.isBlank()) {
                Mode mode = parse(id);
                if (!modes.contains(mode)) {
                    modes.add(mode);
                }
            }
        }
        modes.sort(null);
        return modes;
    }

    @Override
    public String toString() {
        return id;
    }
}
