package dev.isolation;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.immutables.value.Value;

/**
 * What to run inside a running sandbox, like {@code nsenter --target PID}: see
 * {@link IsolatedProcess#join(JoinSpec)} and {@link Launcher#join(long, JoinSpec)}.
 *
 * <p>The joined process enters the target's namespaces (all of them, or those named), its root
 * filesystem and cgroup, and by default runs as the target's uid and gid. Its working
 * directory is {@code /} unless given. Its environment holds only {@code PATH} unless given.
 *
 * <p>Immutable and thread-safe.
 */
@Value.Immutable
@SpecStyle
public abstract class JoinSpec {

    JoinSpec() {
    }

    /** A new, empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link JoinSpec}s; not thread-safe. {@code build()} throws {@link InvalidSpecException}. */
    public static final class Builder extends ImmutableJoinSpec.Builder {
        Builder() {
        }

        /** Sets the command and its arguments; the first is the executable. */
        public Builder command(String... commandAndArguments) {
            return command(Arrays.asList(commandAndArguments));
        }
    }

    /** The executable and its arguments. */
    public abstract List<String> command();

    /** Environment variables; {@code PATH} defaults to {@link IsolatedProcessSpec#DEFAULT_PATH}. */
    public abstract Map<String, String> environment();

    /** The working directory inside the target's root. Default {@code /}. */
    public abstract Optional<String> workingDirectory();

    /**
     * The namespaces to enter. Empty means every namespace the target does not share with the
     * caller. An unprivileged caller enters the target's user namespace in any case (it could
     * enter none of the others from outside it). The root filesystem and working directory
     * follow the mount namespace: without it the command sees the caller's filesystem.
     */
    public abstract Set<Namespace> namespaces();

    /** The uid to run as inside; default the target's. */
    public abstract OptionalInt uid();

    /** The gid to run as inside; default the target's. */
    public abstract OptionalInt gid();

    /** Standard input. Default {@link Redirect#PIPE}. */
    @Value.Default
    public Redirect stdin() {
        return Redirect.PIPE;
    }

    /** Standard output. Default {@link Redirect#PIPE}. */
    @Value.Default
    public Redirect stdout() {
        return Redirect.PIPE;
    }

    /** Standard error. Default {@link Redirect#PIPE}. */
    @Value.Default
    public Redirect stderr() {
        return Redirect.PIPE;
    }

    @Value.Check
    void check() {
        SpecRules.checkCommand(command());
        SpecRules.checkEnvironment(environment());
        workingDirectory().ifPresent(dir -> SpecRules.checkInsidePath("workingDirectory", dir));
        SpecRules.checkRedirects(stdin(), stdout(), stderr());
    }

    /** The environment the joined command gets. */
    public Map<String, String> effectiveEnvironment() {
        Map<String, String> result = new java.util.LinkedHashMap<>(environment());
        result.putIfAbsent("PATH", IsolatedProcessSpec.DEFAULT_PATH);
        return java.util.Collections.unmodifiableMap(result);
    }
}
