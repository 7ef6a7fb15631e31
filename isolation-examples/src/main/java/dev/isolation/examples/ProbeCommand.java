package dev.isolation.examples;

import dev.isolation.HostReport;
import dev.isolation.Isolation;
import dev.isolation.IsolationException;
import java.io.PrintStream;

/** {@code isolation probe}: what this host allows the current user, and why not where not. */
final class ProbeCommand {
    private ProbeCommand() {
    }

    static int run(PrintStream out, PrintStream err) {
        try {
            HostReport report = Isolation.launcher().probe();
            out.print(report);
            return 0;
        } catch (IsolationException e) {
            err.println("isolation: " + e.getMessage());
            return Main.SETUP_FAILED;
        }
    }
}
