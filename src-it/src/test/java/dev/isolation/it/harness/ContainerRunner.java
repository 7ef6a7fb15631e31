package dev.isolation.it.harness;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.containers.startupcheck.StartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * Runs a test JVM in a container started with Testcontainers: as root (container-root) or as uid
 * {@value RuntimeImage#USER_UID} (container-user). The staged classpath is bind-mounted read-only at
 * /it/cp, the mode's output directory read-write at /it/out. The container is {@link Privileges
 * privileged}, or the fallback where privileged containers cannot start.
 */
final class ContainerRunner {
    private static final String CP = "/it/cp";
    private static final String OUT = "/it/out";
    private static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final Settings settings;
    private final PrintStream console;
    private final Set<GenericContainer<?>> running = ConcurrentHashMap.newKeySet();
    private String unavailable;
    private RuntimeException broken;
    private Exception prepareFailure;
    private boolean checked;
    private RuntimeImage.Ready image;
    private Privileges privileges;

    ContainerRunner(Settings settings, PrintStream console) {
        this.settings = settings;
        this.console = console;
        Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "stop test containers"));
    }

    /**
     * Why containers cannot run here (no Docker daemon to talk to), or null. Throws when there is a
     * Docker but Testcontainers fails with it otherwise: that is a broken mode, not a missing one.
     */
    synchronized String unavailable() {
        if (!checked) {
            checked = true;
            try {
                DockerClientFactory.instance().client();
            } catch (IllegalStateException e) {
                unavailable = "no usable Docker (" + firstLine(e.getMessage()) + ")";
            } catch (RuntimeException e) {
                broken = e;
            }
        }
        if (broken != null) {
            throw new IllegalStateException("Testcontainers cannot use Docker: " + RuntimeImage.oneLine(broken), broken);
        }
        return unavailable;
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "no details";
        }
        String line = text.strip().lines().findFirst().orElse("no details");
        return line.length() > 200 ? line.substring(0, 200) + "..." : line;
    }

    /** The image and the privileges, once for both container modes; throws when neither works. */
    synchronized void prepare(Path workDir) throws Exception {
        if (image != null) {
            return;
        }
        if (prepareFailure != null) {
            throw new IllegalStateException("no container (as for the mode before): " + RuntimeImage.oneLine(prepareFailure), prepareFailure);
        }
        try {
            doPrepare(workDir);
        } catch (Exception e) {
            prepareFailure = e;
            throw e;
        }
    }

    private void doPrepare(Path workDir) throws Exception {
        DockerClient docker = DockerClientFactory.instance().client();
        RuntimeImage.Ready ready = new RuntimeImage(docker, settings, console).prepare(workDir);
        console.printf("harness: image %s (%s) ready in %.1f s%n", ready.name(), ready.origin(), ready.millis() / 1000.0);
        Privileges chosen = probe(ready.name(), Privileges.privileged());
        if (chosen == null) {
            Privileges fallback = Privileges.hostCapabilities();
            chosen = probe(ready.name(), fallback);
            if (chosen == null) {
                throw new IllegalStateException("neither a privileged container nor the fallback could start; see the messages above");
            }
        }
        console.println("harness: containers run with " + chosen.describe());
        image = ready;
        privileges = chosen;
    }

    /** Starts a container that only runs busybox true; returns the privileges that worked, or null. */
    private Privileges probe(String imageName, Privileges wanted) {
        Privileges current = wanted;
        for (int attempt = 0; attempt < 16; attempt++) {
            long start = System.nanoTime();
            Privileges candidate = current;
            try (GenericContainer<?> probe = new GenericContainer<>(DockerImageName.parse(imageName))) {
                probe.withCommand("/bin/busybox", "true")
                        .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(60)))
                        .withCreateContainerCmdModifier(candidate::apply)
                        .start();
                console.printf("harness: probe container with %s started in %.1f s%n", candidate.isPrivileged() ? "--privileged" : "the fallback",
                        (System.nanoTime() - start) / 1e9);
                return candidate;
            } catch (RuntimeException e) {
                String error = RuntimeImage.oneLine(e);
                String unknown = Privileges.unknownCapability(error);
                if (unknown != null && candidate.capabilities().contains(unknown)) {
                    console.println("harness: the Docker daemon does not know CAP_" + unknown + "; leaving it out");
                    current = candidate.without(unknown);
                } else if (candidate.init() && error.contains("init")) {
                    console.println("harness: the Docker daemon has no init (" + error + "); running without one");
                    current = candidate.withoutInit();
                } else {
                    console.println("harness: " + (candidate.isPrivileged() ? "a privileged container" : "the fallback container")
                            + " could not start: " + error);
                    return null;
                }
            }
        }
        return null;
    }

    Outcome run(Mode mode, Staging staging, LineSink sink) throws IOException, InterruptedException {
        long start = System.nanoTime();
        Path out = staging.outDir(mode);
        int uid = mode.root() ? 0 : RuntimeImage.USER_UID;
        DockerClient docker = DockerClientFactory.instance().client();
        Map<String, String> env = TestJvm.environment(mode, uid);
        env.put("PATH", PATH);
        List<String> command = TestJvm.command(image.java(), mode, staging.classpath(CP), staging.testClasses(CP), OUT, settings.tests());
        String cp = staging.cpDir().toString();

        GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(image.name()));
        container.withCommand(command.toArray(String[]::new))
                .withEnv(env)
                .withStartupCheckStrategy(new ReturnAtOnce())
                .withCreateContainerCmdModifier(cmd -> configure(cmd, uid, cp, out.toString()));
        sink.note("starting a container from " + image.name() + " as uid " + uid);
        String timedOut = null;
        int exit;
        LogFollower logs = new LogFollower(sink);
        running.add(container);
        try {
            container.start();
            String id = container.getContainerId();
            sink.note("container " + id.substring(0, 12) + " started in " + (System.nanoTime() - start) / 1_000_000 + " ms");
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(true).exec(logs);
            WaitContainerResultCallback wait = docker.waitContainerCmd(id).exec(new WaitContainerResultCallback());
            Integer code = null;
            try {
                code = wait.awaitStatusCode(settings.modeTimeoutSeconds(), TimeUnit.SECONDS);
            } catch (RuntimeException notYet) {
                String current = ModeRunner.currentTest(out);
                timedOut = "timed out after " + settings.modeTimeoutSeconds() + " s" + (current == null ? "" : " in " + current);
                sink.note(timedOut + "; thread dump follows");
                docker.killContainerCmd(id).withSignal("QUIT").exec();
                Thread.sleep(3000);
                docker.killContainerCmd(id).exec();
                code = docker.waitContainerCmd(id).exec(new WaitContainerResultCallback()).awaitStatusCode(60, TimeUnit.SECONDS);
            }
            exit = code == null ? -1 : code;
            logs.awaitCompletion(10, TimeUnit.SECONDS);
        } catch (RuntimeException e) {
            long millis = (System.nanoTime() - start) / 1_000_000;
            return Outcome.error(mode, null, "the container failed: " + RuntimeImage.oneLine(e), millis);
        } finally {
            logs.close();
            running.remove(container);
            container.stop();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        return ModeRunner.collect(mode, out, exit, timedOut, millis);
    }

    private CreateContainerCmd configure(CreateContainerCmd cmd, int uid, String cp, String out) {
        cmd.withUser(uid + ":" + uid).withWorkingDir(OUT);
        List<Bind> binds = new ArrayList<>();
        if (cmd.getHostConfig().getBinds() != null) {
            binds.addAll(List.of(cmd.getHostConfig().getBinds()));
        }
        binds.add(Bind.parse(cp + ":" + CP + ":ro"));
        binds.add(Bind.parse(out + ":" + OUT + ":rw"));
        cmd.getHostConfig().withBinds(binds);
        privileges.apply(cmd);
        return cmd;
    }

    String describe() {
        return image == null ? "" : image.name() + ", " + privileges.describe();
    }

    private void stopAll() {
        for (GenericContainer<?> container : running) {
            try {
                container.stop();
            } catch (RuntimeException e) {
                // the JVM is going down anyway
            }
        }
    }

    /** start() returns as soon as the container runs: the runner follows the logs and waits itself. */
    private static final class ReturnAtOnce extends StartupCheckStrategy {
        @Override
        public StartupStatus checkStartupState(DockerClient dockerClient, String containerId) {
            return StartupStatus.SUCCESSFUL;
        }
    }

    /** Streams the container's stdout and stderr, from its start, into the mode's sink. */
    private static final class LogFollower extends ResultCallback.Adapter<Frame> {
        private final LineSink sink;

        LogFollower(LineSink sink) {
            this.sink = sink;
        }

        @Override
        public void onNext(Frame frame) {
            String text = new String(frame.getPayload(), StandardCharsets.UTF_8);
            if (frame.getStreamType() == StreamType.STDERR) {
                sink.acceptErr(text);
            } else {
                sink.accept(text);
            }
        }
    }
}
