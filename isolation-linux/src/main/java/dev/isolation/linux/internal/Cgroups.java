package dev.isolation.linux.internal;

import dev.isolation.IsolatedProcessSpec;
import dev.isolation.LaunchException;
import dev.isolation.ResourceUsage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The resource limits of launches: prepares the library's cgroup parents for the current
 * helper (see {@link CgroupLayout}), encodes the limits for the helper, and reads a running
 * sandbox's figures from the cgroup directories the helper reports. Thread-safe.
 */
final class Cgroups {
    /** cgroup CPU quotas are per period; 100 ms is the kernel's default period. */
    static final long CPU_PERIOD_MICROS = 100_000;

    /** How often a plan is made when carrying it out raced with the library's own processes. */
    private static final int PLAN_ATTEMPTS = 3;

    private long helperPid = -1;
    private CgroupLayout.Needs prepared;
    private List<CgroupLayout.Parent> parents;

    /**
     * The parents for a launch of {@code spec} by the helper {@code helperPid}, preparing them
     * first when this helper has not needed these controllers yet (and then also removing
     * leftovers of dead helpers). Throws {@link dev.isolation.UnsupportedHostException} or
     * {@link dev.isolation.LaunchException} when the host has no place for them.
     */
    synchronized List<CgroupLayout.Parent> parentsFor(long helperPid, IsolatedProcessSpec spec) {
        CgroupLayout.Needs needs = CgroupLayout.Needs.of(spec);
        boolean newHelper = helperPid != this.helperPid;
        if (newHelper) {
            this.helperPid = helperPid;
            prepared = null;
            parents = null;
        }
        if (prepared == null || !prepared.covers(needs)) {
            CgroupLayout.Needs wanted = prepared == null ? needs : prepared.union(needs);
            CgroupLayout.Plan plan = planAndPrepare(helperPid, wanted);
            // leftovers of dead helpers, in every parent this helper is about to use
            List<CgroupLayout.Parent> fresh = plan.parents().stream().filter(p -> parents == null || !parents.contains(p)).toList();
            CgroupLayout.removeLeftovers(fresh, helperPid, CgroupLayout.pidNamespace(), pid -> ProcessHandle.of(pid).isPresent());
            prepared = wanted;
            parents = plan.parents();
        }
        return parents;
    }

    /**
     * Plans and carries out the plan. A process the library started while its processes were
     * being moved into the leaf (cgroup v2, delegated) can stay behind and make enabling the
     * controllers fail with EBUSY; the plan is then made again, moving it too.
     */
    private static CgroupLayout.Plan planAndPrepare(long helperPid, CgroupLayout.Needs wanted) {
        for (int attempt = 1; ; attempt++) {
            CgroupLayout.Plan plan = CgroupLayout.plan(CgroupLayout.Host.current(helperPid), wanted);
            try {
                CgroupLayout.execute(plan);
                return plan;
            } catch (LaunchException e) {
                boolean raced = e.step().equals(CgroupLayout.ENABLE_STEP) && e.errno().orElse(0) == Errno.EBUSY;
                if (!raced || attempt == PLAN_ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    /** {@code payload} followed by the cgroup TLVs of {@code spec}, for a launch by {@code helperPid}. */
    byte[] withLimits(byte[] payload, IsolatedProcessSpec spec, long helperPid) {
        if (!spec.hasResourceLimits()) {
            return payload;
        }
        byte[] limits = encode(spec, parentsFor(helperPid, spec));
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + limits.length);
        out.writeBytes(payload);
        out.writeBytes(limits);
        return out.toByteArray();
    }

    /** The ISO_TLV_CG_* records: the parents, then the limits. */
    static byte[] encode(IsolatedProcessSpec spec, List<CgroupLayout.Parent> parents) {
        Protocol.TlvWriter tlv = new Protocol.TlvWriter();
        for (CgroupLayout.Parent parent : parents) {
            byte[] path = parent.dir().getBytes(StandardCharsets.UTF_8);
            tlv.bytes(Protocol.TLV_CG_PARENT, Protocol.buffer(4 + path.length).putInt(parent.roles()).put(path).array());
        }
        spec.memoryLimitBytes().ifPresent(bytes -> {
            tlv.u64(Protocol.TLV_CG_MEMORY_MAX, bytes);
            tlv.u64(Protocol.TLV_CG_SWAP_MAX, spec.swapLimitBytes().orElse(0));
        });
        spec.pidsLimit().ifPresent(pids -> tlv.u64(Protocol.TLV_CG_PIDS_MAX, pids));
        spec.cpuQuota().ifPresent(cpus -> tlv.bytes(Protocol.TLV_CG_CPU_QUOTA,
                Protocol.buffer(16).putLong(quotaMicros(cpus)).putLong(CPU_PERIOD_MICROS).array()));
        spec.cpuWeight().ifPresent(weight -> tlv.u64(Protocol.TLV_CG_CPU_WEIGHT, weight));
        return tlv.toByteArray();
    }

    /** The CPU time per {@link #CPU_PERIOD_MICROS} for a quota in CPUs: 1.5 -> 150000. At least 1 ms, the kernel's minimum. */
    static long quotaMicros(double cpus) {
        return Math.max(1000, Math.round(cpus * CPU_PERIOD_MICROS));
    }

    // ---- figures ----

    /**
     * What a running sandbox uses, read from its cgroup directories (cgroup v1 or v2, told by
     * the files there); empty when they are gone (the sandbox just ended) or there are none.
     */
    static Optional<ResourceUsage> read(String memoryDir, String cpuDir) {
        if (memoryDir.isEmpty() && cpuDir.isEmpty()) {
            return Optional.empty();
        }
        OptionalLong current = OptionalLong.empty();
        OptionalLong peak = OptionalLong.empty();
        if (!memoryDir.isEmpty()) {
            Path dir = Path.of(memoryDir);
            boolean v2 = Files.exists(dir.resolve("cgroup.controllers"));
            current = number(dir.resolve(v2 ? "memory.current" : "memory.usage_in_bytes"));
            peak = number(dir.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes"));
            if (!Files.isDirectory(dir)) {
                return Optional.empty();
            }
        }
        Duration cpu = Duration.ZERO;
        if (!cpuDir.isEmpty()) {
            Path dir = Path.of(cpuDir);
            OptionalLong micros = keyed(dir.resolve("cpu.stat"), "usage_usec");
            if (micros.isPresent()) {
                cpu = Duration.ofNanos(micros.getAsLong() * 1000);
            } else {
                OptionalLong nanos = number(dir.resolve("cpuacct.usage"));
                if (nanos.isEmpty()) {
                    return Optional.empty();
                }
                cpu = Duration.ofNanos(nanos.getAsLong());
            }
        }
        return Optional.of(new ResourceUsage(current, peak, cpu));
    }

    static OptionalLong number(Path file) {
        try {
            return OptionalLong.of(Long.parseLong(Files.readString(file).trim()));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The value of "key N" in a flat-keyed cgroup file such as cpu.stat or memory.events. */
    static OptionalLong keyed(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                String[] parts = line.trim().split("\\s+");
                if (parts.length == 2 && parts[0].equals(key)) {
                    return OptionalLong.of(Long.parseLong(parts[1]));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // absent
        }
        return OptionalLong.empty();
    }
}
