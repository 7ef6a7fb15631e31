package dev.isolation;

import dev.isolation.spi.LauncherProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Entry point: {@code Isolation.launcher().launch(spec)}.
 *
 * <p>The implementation is found on the class path with {@link ServiceLoader}; on Linux that is
 * the {@code isolation-linux} jar. Thread-safe.
 */
public final class Isolation {
    private Isolation() {
    }

    /**
     * The launcher of the platform's implementation. The same instance on every call.
     *
     * @throws IsolationUnavailableException if the platform is not supported or no
     *     implementation is on the class path; the message says which
     */
    public static Launcher launcher() {
        return Providers.launcher();
    }

    /** The usable provider, when there is one; used by spec validation. */
    static Optional<LauncherProvider> provider() {
        return Providers.usable();
    }

    /** Lazily loads providers once; holder idiom keeps it thread-safe without locks. */
    private static final class Providers {
        private static final List<LauncherProvider> ALL = load();
        private static volatile Launcher launcher;

        private static List<LauncherProvider> load() {
            List<LauncherProvider> providers = new ArrayList<>();
            ServiceLoader.load(LauncherProvider.class, Isolation.class.getClassLoader()).forEach(providers::add);
            return List.copyOf(providers);
        }

        static Optional<LauncherProvider> usable() {
            return ALL.stream().filter(p -> p.unavailableReason().isEmpty()).findFirst();
        }

        static Launcher launcher() {
            Launcher current = launcher;
            if (current != null) {
                return current;
            }
            synchronized (Providers.class) {
                if (launcher == null) {
                    launcher = usable().orElseThrow(Providers::unavailable).launcher();
                }
                return launcher;
            }
        }

        private static IsolationUnavailableException unavailable() {
            String os = System.getProperty("os.name") + " " + System.getProperty("os.arch");
            if (ALL.isEmpty()) {
                return new IsolationUnavailableException("No isolation implementation on the class path (running on " + os
                        + "). Add the dev.isolation:isolation-linux jar as a dependency.");
            }
            StringBuilder reasons = new StringBuilder();
            for (LauncherProvider provider : ALL) {
                reasons.append(' ').append(provider.unavailableReason().orElse(""));
            }
            return new IsolationUnavailableException("Isolated processes are not supported on " + os + ":" + reasons);
        }
    }
}
