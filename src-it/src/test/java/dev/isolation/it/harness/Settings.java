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
        boolean ci) {

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
                isCi());
    }

    /** CI=true (or 1, yes) in the environment: every skip and every mode that cannot run fails the run. */
    static boolean isCi() {
        String ci = System.getenv("CI");
        return ci != null && (ci.equalsIgnoreCase("true") || ci.equals("1") || ci.equalsIgnoreCase("yes"));
    }

    /** A system property; blank values (an empty -D from the pom) count as unset. */
    private static String property(String name, String fallback) {
        String value = System.getProperty(name);
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
