package dev.isolation;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a host allows the current user, as found by {@link Launcher#probe()}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param checks every check made, in a stable order
 */
public record HostReport(List<Check> checks) {

    public HostReport {
        checks = List.copyOf(checks);
    }

    /**
     * One capability and whether the host grants it.
     *
     * @param name what was checked, e.g. {@code "namespace USER"}
     * @param available whether it works
     * @param detail what was found; when not available, why and how to enable it
     */
    public record Check(String name, boolean available, String detail) {
        public Check {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(detail, "detail");
        }
    }

    /** The check of that name, if it was made. */
    public Optional<Check> check(String name) {
        return checks.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        for (Check check : checks) {
            text.append(check.available() ? "yes  " : "no   ").append(check.name()).append(": ").append(check.detail()).append('\n');
        }
        return text.toString();
    }
}
