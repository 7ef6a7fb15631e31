package dev.isolation;

import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What a sandbox has used: memory and CPU time. While it runs, figures are current; once it
 * has ended, they are final.
 *
 * <p>With a cgroup (any resource limit in the spec) the figures cover every process of the
 * sandbox; without one, they cover only the main process and the children it waited for, and
 * are known only after it ended.
 *
 * @param memoryCurrentBytes memory in use now; empty once the sandbox has ended, or without a cgroup
 * @param memoryPeakBytes the most memory used at once, when known (cgroup v1, or v2 on Linux 5.19 and later; else the main process's peak RSS after exit)
 * @param cpuTime CPU time used, user and system together
 */
public record ResourceUsage(OptionalLong memoryCurrentBytes, OptionalLong memoryPeakBytes, Duration cpuTime) {
    public ResourceUsage {
        Objects.requireNonNull(memoryCurrentBytes, "memoryCurrentBytes");
        Objects.requireNonNull(memoryPeakBytes, "memoryPeakBytes");
        Objects.requireNonNull(cpuTime, "cpuTime");
    }
}
