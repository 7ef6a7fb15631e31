package dev.isolation.it.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The four ways the integration tests are run. The id is what tests see in {@code ISOLATION_IT_MODE}. */
public enum Mode {
    HOST_ROOT("host-root", false, true),
    HOST_USER("host-user", false, false),
    CONTAINER_ROOT("container-root", true, true),
    CONTAINER_USER("container-user", true, false);

    /** The environment variable that tells a test JVM its mode. */
    public static final String ENV_MODE = "ISOLATION_IT_MODE";
    /** "true" in container modes, "false" on the host. */
    public static final String ENV_IN_CONTAINER = "ISOLATION_IT_IN_CONTAINER";
    /** The effective uid the runner starts the test JVM with. */
    public static final String ENV_EXPECTED_UID = "ISOLATION_IT_EXPECTED_UID";
    /** The runner's own namespaces, "mnt:[...] pid:[...] uts:[...]": a test JVM on the host shares them, one in a container does not. */
    public static final String ENV_RUNNER_NAMESPACES = "ISOLATION_IT_RUNNER_NAMESPACES";

    private final String id;
    private final boolean container;
    private final boolean root;

    Mode(String id, boolean container, boolean root) {
        this.id = id;
        this.container = container;
        this.root = root;
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
        throw new IllegalArgumentException("unknown mode '" + id + "', expected one of host-root, host-user, container-root, container-user");
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
