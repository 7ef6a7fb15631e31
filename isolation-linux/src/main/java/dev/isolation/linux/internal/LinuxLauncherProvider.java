package dev.isolation.linux.internal;

import dev.isolation.IsolatedProcessSpec;
import dev.isolation.Launcher;
import dev.isolation.Namespace;
import dev.isolation.spi.LauncherProvider;
import java.util.Locale;
import java.util.Optional;

/** Registers the Linux launcher with {@link java.util.ServiceLoader}. Thread-safe. */
public final class LinuxLauncherProvider implements LauncherProvider {
    private static final class Holder {
        static final LinuxLauncher LAUNCHER = new LinuxLauncher();
    }

    /** Called by {@link java.util.ServiceLoader}. */
    public LinuxLauncherProvider() {
    }

    @Override
    public Optional<String> unavailableReason() {
        String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return Optional.of("isolation-linux works only on Linux, this is " + os + ".");
        }
        if (HelperBinary.resourceName().isEmpty()) {
            return Optional.of("isolation-linux supports x86_64 and aarch64, this is " + System.getProperty("os.arch") + ".");
        }
        if (!"64".equals(System.getProperty("sun.arch.data.model", "64"))) {
            return Optional.of("isolation-linux needs a 64-bit JVM.");
        }
        return Optional.empty();
    }

    @Override
    public Launcher launcher() {
        return Holder.LAUNCHER;
    }

    @Override
    public void validate(IsolatedProcessSpec spec) {
        if (LinuxLauncher.namespacesFor(spec).contains(Namespace.USER)) {
            // Throws InvalidSpecException when the caller could not write the maps.
            IdMaps.uidPlan(spec);
            IdMaps.gidPlan(spec);
        }
    }
}
