package dev.isolation;

import java.util.Objects;

/**
 * The host does not allow what the spec asks for: the kernel lacks a feature, or a policy
 * forbids it (user namespaces disabled by {@code kernel.unprivileged_userns_clone} or by
 * AppArmor, no delegated cgroup for an unprivileged caller, no {@code newuidmap}...). The
 * message says how to enable it; {@link #remedy()} holds that advice alone.
 */
public class UnsupportedHostException extends LaunchException {
    private static final long serialVersionUID = 1L;

    private final String remedy;

    public UnsupportedHostException(String step, String path, Integer errno, String errnoName, String errnoText, String remedy) {
        super(step, path, errno, errnoName, errnoText, Objects.requireNonNull(remedy, "remedy"));
        this.remedy = remedy;
    }

    /** What to change on the host so that the launch can succeed. */
    public String remedy() {
        return remedy;
    }
}
