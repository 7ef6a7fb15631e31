package dev.isolation.it.harness;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The command line and environment of one test JVM, wherever it runs. */
final class TestJvm {
    private TestJvm() {
    }

    /**
     * java, options, classpath, ModeMain and its arguments. System properties of the runner named
     * junit.* or isolation.* (except the runner's own isolation.it.*) are passed on, so
     * {@code -Djunit.jupiter.execution.timeout.default=...} and the library's switches reach the tests.
     */
    static List<String> command(String java, Mode mode, String classpath, String testClasses, String outDir, String tests) {
        return command(java, mode, classpath, testClasses, outDir, tests, List.of());
    }

    /** The same, with more JVM options (the VM's) before the classpath. */
    static List<String> command(String java, Mode mode, String classpath, String testClasses, String outDir, String tests,
            List<String> jvmOptions) {
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("-Dfile.encoding=UTF-8");
        command.add("-Dsun.stdout.encoding=UTF-8");
        command.add("-Dsun.stderr.encoding=UTF-8");
        command.add("-Djava.awt.headless=true");
        command.add("-XX:+UseSerialGC");
        // A crash's log lands where the runner reads it (JvmCrash), not in whatever directory the JVM started in.
        command.add("-XX:ErrorFile=" + outDir + "/" + JvmCrash.ERROR_FILE_PATTERN);
        for (String name : System.getProperties().stringPropertyNames()) {
            if ((name.startsWith("junit.") || name.startsWith("isolation.")) && !name.startsWith("isolation.it.")) {
                command.add("-D" + name + "=" + System.getProperty(name));
            }
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classpath);
        command.add(ModeMain.class.getName());
        command.addAll(List.of("--mode", mode.id(), "--out", outDir, "--scan", testClasses, "--tests", tests));
        return command;
    }

    /** This JVM's mount, pid and uts namespaces, as /proc/self/ns shows them. */
    static String namespaces() {
        StringBuilder sb = new StringBuilder();
        for (String type : new String[] {"mnt", "pid", "uts"}) {
            try {
                sb.append(sb.length() == 0 ? "" : " ").append(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/ns", type)));
            } catch (java.io.IOException e) {
                sb.append(sb.length() == 0 ? "" : " ").append(type).append(":?");
            }
        }
        return sb.toString();
    }

    /** This kernel's boot id: another one in the VM. */
    static String bootId() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/random/boot_id")).trim();
        } catch (java.io.IOException e) {
            return "unknown";
        }
    }

    /** What every test JVM finds in its environment, besides what its mode adds. */
    static Map<String, String> environment(Mode mode, int uid) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(Mode.ENV_MODE, mode.id());
        env.put(Mode.ENV_IN_CONTAINER, Boolean.toString(mode.container()));
        env.put(Mode.ENV_IN_VM, Boolean.toString(mode.vm()));
        env.put(Mode.ENV_RUNNER_BOOT_ID, bootId());
        env.put(Mode.ENV_EXPECTED_UID, Integer.toString(uid));
        env.put(Mode.ENV_RUNNER_NAMESPACES, namespaces());
        env.put("LANG", "C.UTF-8");
        String ci = System.getenv("CI");
        if (ci != null) {
            env.put("CI", ci);
        }
        return env;
    }
}
