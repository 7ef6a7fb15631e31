package dev.isolation.it.harness;

import java.nio.file.Path;
import java.util.List;

/** The runner's settings, from system properties (see src-it/pom.xml) and the environment. */
record Settings(
        List<Mode> modes,
        String tests,
        long modeTimeoutSeconds,
        String image,
        String baseImage,
        long pullTimeoutSeconds,
        String jdk,
        boolean keep,
        Path testClasses,
        Path resultsDir,
        boolean ci,
        Vm vm) {

    /** The vm-* modes' settings (isolation.it.vm*). */
    record Vm(
            List<String> tests,
            String kernel,
            String qemu,
            String accel,
            String cpu,
            String memory,
            int cpus,
            long bootTimeoutSeconds,
            Path scripts,
            String kernelArgs,
            List<String> jvmOptions) {

        /** The tests the VM runs when -Disolation.it.vmTests is not given; names that do not exist (yet) are left out. */
        static final String DEFAULT_TESTS = "ResourceLimitsIT,LifecycleIT,NamespacesIT,ProcessIT,HarnessSelfCheckIT";

        static Vm fromSystem() {
            return new Vm(
                    List.of(property("isolation.it.vmTests", DEFAULT_TESTS).split("\\s*,\\s*")),
                    property("isolation.it.vmKernel", ""),
                    property("isolation.it.vmQemu", "qemu-system-x86_64"),
                    property("isolation.it.vmAccel", "tcg,thread=single"),
                    property("isolation.it.vmCpu", "qemu64"),
                    property("isolation.it.vmMemory", "2G"),
                    Integer.parseInt(property("isolation.it.vmCpus", "2")),
                    Long.parseLong(property("isolation.it.vmBootTimeout", "180")),
                    Path.of(property("isolation.it.vmScripts", "vm")).toAbsolutePath(),
                    property("isolation.it.vmKernelArgs", ""),
                    words(property("isolation.it.vmJvmOptions", "-Disolation.lifecycle.launches=1000")));
        }
    }

    static Settings fromSystem() {
        String testClasses = property("isolation.it.testClasses", "");
        return new Settings(
                Mode.parseList(property("isolation.it.modes", "")),
                property("isolation.it.tests", ".*IT"),
                Long.parseLong(property("isolation.it.modeTimeout", "900")),
                property("isolation.it.image", ""),
                property("isolation.it.baseImage", "eclipse-temurin:17-jdk"),
                Long.parseLong(property("isolation.it.pullTimeout", "300")),
                property("isolation.it.jdk", ""),
                Boolean.parseBoolean(property("isolation.it.keep", "false")),
                testClasses.isBlank() ? null : Path.of(testClasses).toAbsolutePath(),
                Path.of(property("isolation.it.resultsDir", "target/it-results")).toAbsolutePath(),
                isCi(),
                Vm.fromSystem());
    }

    /** CI=true (or 1, yes) in the environment: every skip and every mode that cannot run fails the run. */
    static boolean isCi() {
        String ci = System.getenv("CI");
        return ci != null && (ci.equalsIgnoreCase("true") || ci.equals("1") || ci.equalsIgnoreCase("yes"));
    }

    private static List<String> words(String text) {
        return text.isBlank() ? List.of() : List.of(text.trim().split("\\s+"));
    }

    /** A system property; blank values (an empty -D from the pom) count as unset. */
    static String property(String name, String fallback) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
