package dev.isolation.it.harness;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How "privileged" a test container is. Docker's {@code --privileged} where the runtime can grant it;
 * where it cannot (runc fails with "unable to apply caps" when the host's own bounding set lacks a
 * capability, as on VMs without CAP_SYS_RESOURCE), the same effect spelled out: every capability of
 * the host's bounding set, seccomp, AppArmor and SELinux labels unconfined, /proc and /sys unmasked
 * (systempaths=unconfined), the host's cgroup tree mounted read-write with the host's cgroup
 * namespace (so /proc/self/cgroup paths exist in it), and the device cgroup open.
 */
final class Privileges {
    private static final Pattern UNKNOWN_CAPABILITY = Pattern.compile("unknown capability: \\\\?\"?(?:CAP_)?([A-Z_]+)");

    private final boolean privileged;
    private final List<String> capabilities;
    private final boolean init;

    private Privileges(boolean privileged, List<String> capabilities, boolean init) {
        this.privileged = privileged;
        this.capabilities = List.copyOf(capabilities);
        this.init = init;
    }

    static Privileges privileged() {
        return new Privileges(true, List.of(), true);
    }

    /** The fallback: the capabilities of this host's bounding set (CapBnd of this JVM, which runs next to dockerd). */
    static Privileges hostCapabilities() {
        List<String> names = new ArrayList<>();
        for (String name : Capabilities.names(ProcStatus.capabilities("CapBnd"))) {
            try {
                Capability.valueOf(name);
                names.add(name);
            } catch (IllegalArgumentException unknownToDockerJava) {
                // left out: the client library cannot send it
            }
        }
        return new Privileges(false, names, true);
    }

    boolean isPrivileged() {
        return privileged;
    }

    List<String> capabilities() {
        return capabilities;
    }

    /** The same without a capability the daemon does not know (older dockerd: BPF, PERFMON, CHECKPOINT_RESTORE). */
    Privileges without(String capability) {
        List<String> rest = new ArrayList<>(capabilities);
        rest.remove(capability);
        return new Privileges(privileged, rest, init);
    }

    Privileges withoutInit() {
        return new Privileges(privileged, capabilities, false);
    }

    boolean init() {
        return init;
    }

    /** The capability a daemon error complains about being unknown, if that is the complaint. */
    static String unknownCapability(String error) {
        Matcher m = UNKNOWN_CAPABILITY.matcher(error);
        return m.find() ? m.group(1).toUpperCase(Locale.ROOT) : null;
    }

    void apply(CreateContainerCmd cmd) {
        HostConfig host = cmd.getHostConfig();
        host.withInit(init);
        if (privileged) {
            host.withPrivileged(true);
            return;
        }
        host.withCapAdd(capabilities.stream().map(Capability::valueOf).toArray(Capability[]::new));
        List<String> securityOpts = new ArrayList<>();
        if (host.getSecurityOpts() != null) {
            securityOpts.addAll(host.getSecurityOpts());
        }
        securityOpts.addAll(List.of("seccomp=unconfined", "apparmor=unconfined", "label=disable"));
        host.withSecurityOpts(securityOpts);
        host.withCgroupnsMode("host");
        host.withDeviceCgroupRules(List.of("a *:* rwm"));
        List<Bind> binds = new ArrayList<>();
        if (host.getBinds() != null) {
            binds.addAll(List.of(host.getBinds()));
        }
        binds.add(Bind.parse("/sys/fs/cgroup:/sys/fs/cgroup:rw"));
        host.withBinds(binds);
        cmd.withHostConfig(UnmaskedHostConfig.copyOf(host));
    }

    /**
     * {@code --security-opt systempaths=unconfined} is not an API option: the docker CLI turns it into
     * empty MaskedPaths and ReadonlyPaths in the HostConfig, fields docker-java does not model. This
     * HostConfig adds them; the rest is copied field by field from the one Testcontainers prepared.
     */
    static final class UnmaskedHostConfig extends HostConfig {
        @JsonProperty("MaskedPaths")
        private final List<String> maskedPaths = List.of();
        @JsonProperty("ReadonlyPaths")
        private final List<String> readonlyPaths = List.of();

        static UnmaskedHostConfig copyOf(HostConfig original) {
            UnmaskedHostConfig copy = new UnmaskedHostConfig();
            for (Class<?> type = HostConfig.class; type != null && type != Object.class; type = type.getSuperclass()) {
                for (Field field : type.getDeclaredFields()) {
                    if (Modifier.isStatic(field.getModifiers())) {
                        continue;
                    }
                    try {
                        field.setAccessible(true);
                        field.set(copy, field.get(original));
                    } catch (ReflectiveOperationException | RuntimeException e) {
                        throw new IllegalStateException("cannot copy HostConfig." + field.getName(), e);
                    }
                }
            }
            return copy;
        }

        List<String> maskedPaths() {
            return maskedPaths;
        }

        List<String> readonlyPaths() {
            return readonlyPaths;
        }
    }

    String describe() {
        if (privileged) {
            return "--privileged" + (init ? "" : ", no init");
        }
        return "fallback: " + capabilities.size() + " capabilities of the host's bounding set, seccomp/apparmor/label unconfined,"
                + " /proc and /sys unmasked (systempaths=unconfined), cgroupns=host with /sys/fs/cgroup read-write, all devices allowed" + (init ? "" : ", no init");
    }
}
