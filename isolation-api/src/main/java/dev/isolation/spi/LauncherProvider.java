package dev.isolation.spi;

import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Launcher;

/**
 * Service-provider interface through which {@link dev.isolation.Isolation} finds an
 * implementation with {@link java.util.ServiceLoader}. Users of the library do not call it.
 *
 * <p>Implementations must be thread-safe.
 */
public interface LauncherProvider {

    /** Whether this provider can work on the running platform; if not, why, else empty. */
    java.util.Optional<String> unavailableReason();

    /** The launcher; called only when {@link #unavailableReason()} is empty. */
    Launcher launcher();

    /**
     * Checks rules of {@code spec} that depend on the host and the caller, such as id mappings
     * an unprivileged caller cannot write. Called by {@code IsolatedProcessSpec.Builder.build()}.
     *
     * @throws dev.isolation.InvalidSpecException naming the field and the rule
     */
    void validate(IsolatedProcessSpec spec);
}
