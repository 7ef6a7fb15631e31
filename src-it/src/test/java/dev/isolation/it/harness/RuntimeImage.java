package dev.isolation.it.harness;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectImageResponse;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Image;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The image the container modes run in. In order of preference:
 * <ol>
 * <li>{@code -Disolation.it.image=IMG}: a prepared image, used as it is;</li>
 * <li>a JDK 17 image from a registry ({@code -Disolation.it.baseImage}, default eclipse-temurin:17-jdk), present or
 * pullable, with the static busybox, the unprivileged user and its subordinate ids added by a small Dockerfile;</li>
 * <li>where no registry answers: an image assembled from the host alone and loaded (docker load) with no registry at all: the
 * host's JDK 17, the shared libraries it and newuidmap/newgidmap load, /bin/busybox with its applets, /etc/passwd,
 * /etc/group, /etc/subuid, /etc/subgid and /tmp.</li>
 * </ol>
 * Built images are tagged with a digest of their inputs and reused while the inputs stay the same.
 * (docker-java's import command sends a body dockerd 20.10 rejects as a truncated tar, hence docker load.)
 */
final class RuntimeImage {
    static final String REPOSITORY = "isolation-it-runtime";
    /** Bump when the layout below changes, so cached images are rebuilt. */
    private static final String LAYOUT_VERSION = "3";
    static final int USER_UID = 1000;
    static final String USER_NAME = "isolation-it";
    private static final String HOST_JDK17 = "/usr/lib/jvm/java-17-openjdk-amd64";
    private static final Pattern LDD_PATH = Pattern.compile("(?:=>\\s+)?(/\\S+)\\s+\\(0x[0-9a-f]+\\)");

    /** An image ready to run: its name, the java to start in it, how it was obtained. */
    record Ready(String name, String java, String origin, long millis) {
    }

    private final DockerClient docker;
    private final Settings settings;
    private final PrintStream log;

    RuntimeImage(DockerClient docker, Settings settings, PrintStream log) {
        this.docker = docker;
        this.settings = settings;
        this.log = log;
    }

    Ready prepare(Path workDir) throws Exception {
        long start = System.nanoTime();
        if (!settings.image().isBlank()) {
            InspectImageResponse image = docker.inspectImageCmd(settings.image()).exec();
            return new Ready(settings.image(), javaOf(image), "given with -Disolation.it.image", millis(start));
        }
        String base = settings.baseImage();
        if (!base.isBlank() && !base.equals("none")) {
            String problem = ensureBase(base);
            if (problem == null) {
                return derived(base, workDir, start);
            }
            log.println("harness: no JDK image from a registry (" + problem + "); building one from the host instead");
        }
        return fromHost(workDir, start);
    }

    /** Null when the base image is present or was pulled, else why not. */
    private String ensureBase(String base) {
        try {
            docker.inspectImageCmd(base).exec();
            return null;
        } catch (NotFoundException absent) {
            // pull it below
        }
        log.println("harness: pulling " + base);
        try {
            boolean done = docker.pullImageCmd(base).exec(new PullImageResultCallback())
                    .awaitCompletion(settings.pullTimeoutSeconds(), TimeUnit.SECONDS);
            if (!done) {
                return "pulling " + base + " took longer than " + settings.pullTimeoutSeconds() + " s";
            }
            docker.inspectImageCmd(base).exec();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (RuntimeException e) {
            return "pull " + base + ": " + oneLine(e);
        }
    }

    /** The base JDK image plus busybox, the user and its subordinate ids. */
    private Ready derived(String base, Path workDir, long start) throws Exception {
        InspectImageResponse baseInfo = docker.inspectImageCmd(base).exec();
        Path busybox = busybox();
        String setup = setupScript();
        String dockerfile = "FROM " + base + "\n"
                + "COPY busybox /bin/busybox\n"
                + "COPY setup.sh /isolation-it-setup.sh\n"
                + "RUN [\"/bin/busybox\", \"sh\", \"/isolation-it-setup.sh\"]\n";
        String digest = sha256(LAYOUT_VERSION, baseInfo.getId(), dockerfile, setup, Long.toString(Files.size(busybox)),
                Long.toString(Files.getLastModifiedTime(busybox).toMillis()));
        String tag = REPOSITORY + ":derived-" + digest.substring(0, 16);
        String java = javaOf(baseInfo);
        if (exists(tag)) {
            return new Ready(tag, java, "cached, derived from " + base, millis(start));
        }
        log.println("harness: building " + tag + " from " + base);
        new ImageFromDockerfile(tag, false)
                .withFileFromPath("busybox", busybox)
                .withFileFromString("setup.sh", setup)
                .withFileFromString("Dockerfile", dockerfile)
                .get();
        return new Ready(tag, java, "built from " + base, millis(start));
    }

    /** The shell script that adapts a JDK image: runs with the busybox just copied in, needs nothing else. */
    private static String setupScript() {
        return String.join("\n",
                "set -eu",
                "bb=/bin/busybox",
                "[ -e /bin/sh ] || $bb ln -s busybox /bin/sh",
                "$bb mkdir -p /tmp /etc",
                "$bb chmod 1777 /tmp",
                "$bb touch /etc/passwd /etc/group /etc/subuid /etc/subgid",
                "user=$($bb awk -F: '$3 == " + USER_UID + " { print $1; exit }' /etc/passwd)",
                "if [ -z \"$user\" ]; then",
                "  user=" + USER_NAME,
                "  $bb grep -q '^[^:]*:[^:]*:" + USER_UID + ":' /etc/group || echo \"$user:x:" + USER_UID + ":\" >> /etc/group",
                "  echo \"$user:x:" + USER_UID + ":" + USER_UID + ":$user:/home/$user:/bin/sh\" >> /etc/passwd",
                "fi",
                "home=$($bb awk -F: '$3 == " + USER_UID + " { print $6; exit }' /etc/passwd)",
                "$bb mkdir -p \"$home\"",
                "$bb chown " + USER_UID + ":" + USER_UID + " \"$home\"",
                "for f in /etc/subuid /etc/subgid; do",
                "  $bb grep -q \"^$user:\" $f || echo \"$user:100000:65536\" >> $f",
                "done",
                "if [ ! -x /usr/bin/newuidmap ] && [ -x /usr/bin/apt-get ]; then",
                "  (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends uidmap"
                        + " && rm -rf /var/lib/apt/lists/*) >/dev/null 2>&1 || echo 'uidmap could not be installed'",
                "fi",
                "");
    }

    /** An image from the host's files only, loaded as one layer: no registry and no Dockerfile build are involved. */
    private Ready fromHost(Path workDir, long start) throws Exception {
        Path jdk = hostJdk17();
        Path busybox = busybox();
        RootfsTree tree = new RootfsTree();
        for (String top : List.of("/bin", "/sbin", "/lib", "/lib64", "/usr/bin", "/usr/sbin", "/usr/lib")) {
            if (Files.exists(Path.of(top), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                tree.addHost(top);
            }
        }
        String jdkInImage = tree.addHost(jdk.toString());
        tree.addHostTree(jdk, rel -> {
            String first = rel.getName(0).toString();
            return Set.of("jmods", "include", "man", "docs", "demo", "sample").contains(first) || rel.toString().equals("lib/src.zip");
        });
        String java = jdkInImage + "/bin/java";
        tree.symlink(tree.resolveInImage("/usr/bin") + "/java", java);

        List<Path> elfs = new ArrayList<>();
        elfs.add(jdk.resolve("bin/java"));
        elfs.add(jdk.resolve("lib/server/libjvm.so"));
        try (var libs = Files.list(jdk.resolve("lib"))) {
            libs.filter(p -> p.getFileName().toString().endsWith(".so") && Files.isRegularFile(p)).forEach(elfs::add);
        }
        elfs.add(jdk.resolve("lib/jspawnhelper"));
        tree.addHost(busybox.toString());
        for (String tool : List.of("/usr/bin/newuidmap", "/usr/bin/newgidmap")) {
            if (Files.isRegularFile(Path.of(tool))) {
                tree.addHost(tool);
                elfs.add(Path.of(tool));
            } else {
                log.println("harness: " + tool + " is not on the host (apt-get install uidmap); the image will not have it");
            }
        }
        for (String lib : sharedLibraries(elfs)) {
            tree.addHost(lib);
        }
        // busybox applets, where the image has nothing else
        for (String applet : run(List.of(busybox.toString(), "--list-full"))) {
            String path = "/" + applet.trim();
            if (applet.isBlank()) {
                continue;
            }
            String dir = tree.resolveInImage(path.substring(0, path.lastIndexOf('/')));
            String at = dir + path.substring(path.lastIndexOf('/'));
            if (!tree.contains(at)) {
                tree.symlink(at, "/bin/busybox");
            }
        }
        if (!tree.contains(tree.resolveInImage("/bin/sh"))) {
            tree.symlink(tree.resolveInImage("/bin") + "/sh", "busybox");
        }
        String home = "/home/" + USER_NAME;
        tree.file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                + USER_NAME + ":x:" + USER_UID + ":" + USER_UID + ":" + USER_NAME + ":" + home + ":/bin/sh\n"
                + "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0644);
        tree.file("/etc/group", "root:x:0:\n" + USER_NAME + ":x:" + USER_UID + ":\nnogroup:x:65534:\n", 0644);
        tree.file("/etc/subuid", USER_NAME + ":100000:65536\n", 0644);
        tree.file("/etc/subgid", USER_NAME + ":100000:65536\n", 0644);
        tree.file("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n", 0644);
        tree.dir("/root", 0700, 0, 0);
        tree.dir(home, 0755, USER_UID, USER_UID);
        tree.dir("/tmp", 01777, 0, 0);
        tree.dir("/var/tmp", 01777, 0, 0);
        for (String mountPoint : List.of("/proc", "/sys", "/dev", "/it")) {
            tree.dir(mountPoint, 0755, 0, 0);
        }

        String digest = tree.digest(LAYOUT_VERSION);
        String tag = REPOSITORY + ":host-" + digest.substring(0, 16);
        if (exists(tag)) {
            return new Ready(tag, java, "cached, from the host's " + jdk, millis(start));
        }
        for (String note : tree.notes()) {
            log.println("harness: image: " + note);
        }
        log.printf("harness: building %s from the host: %d entries, %d MB%n", tag, tree.size(), tree.bytes() >> 20);
        Path layer = workDir.resolve("layer.tar");
        MessageDigest layerDigest = MessageDigest.getInstance("SHA-256");
        try (OutputStream out = new DigestOutputStream(new BufferedOutputStream(Files.newOutputStream(layer), 1 << 20), layerDigest)) {
            tree.writeTar(out);
        }
        try {
            load(tag, layer, "sha256:" + HexFormat.of().formatHex(layerDigest.digest()), List.of(
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "JAVA_HOME=" + jdkInImage,
                    "LANG=C.UTF-8"), digest);
        } finally {
            if (!settings.keep()) {
                Files.deleteIfExists(layer);
            }
        }
        if (!exists(tag)) {
            throw new IllegalStateException("docker load did not produce " + tag);
        }
        removeOtherTags(tag);
        return new Ready(tag, java, "built from the host's " + jdk, millis(start));
    }

    /**
     * Loads a one-layer image with {@code docker load}: a tar in the layout {@code docker save} writes
     * (manifest.json, the image config, the layer), streamed to the daemon. No registry, no build.
     */
    private void load(String tag, Path layer, String diffId, List<String> env, String inputs) throws Exception {
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> System.getProperty("os.arch");
        };
        String config = "{\"architecture\":\"" + arch + "\",\"os\":\"linux\",\"created\":\"1970-01-01T00:00:00Z\","
                + "\"config\":{\"Env\":[" + String.join(",", env.stream().map(RuntimeImage::json).toList()) + "],"
                + "\"Cmd\":[\"/bin/sh\"],\"Labels\":{\"dev.isolation.it.inputs\":" + json(inputs) + "}},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + json(diffId) + "]},"
                + "\"history\":[{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"isolation-it harness: from the host's files\"}]}";
        String configName = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(config.getBytes(StandardCharsets.UTF_8)))
                + ".json";
        String manifest = "[{\"Config\":" + json(configName) + ",\"RepoTags\":[" + json(tag) + "],\"Layers\":[\"layer/layer.tar\"]}]";

        PipedInputStream in = new PipedInputStream(1 << 20);
        PipedOutputStream pipe = new PipedOutputStream(in);
        AtomicReference<Exception> writeFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try (TarArchiveOutputStream tar = new TarArchiveOutputStream(pipe)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                addBytes(tar, configName, config.getBytes(StandardCharsets.UTF_8));
                addBytes(tar, "manifest.json", manifest.getBytes(StandardCharsets.UTF_8));
                TarArchiveEntry dir = new TarArchiveEntry("layer/", TarConstants.LF_DIR);
                tar.putArchiveEntry(dir);
                tar.closeArchiveEntry();
                TarArchiveEntry entry = new TarArchiveEntry("layer/layer.tar");
                entry.setSize(Files.size(layer));
                tar.putArchiveEntry(entry);
                Files.copy(layer, tar);
                tar.closeArchiveEntry();
                tar.finish();
            } catch (Exception e) {
                writeFailure.set(e);
            }
        }, "image writer");
        writer.setDaemon(true);
        writer.start();
        try (in) {
            docker.loadImageCmd(in).exec();
        } finally {
            writer.join(60_000);
        }
        if (writeFailure.get() != null) {
            throw new IOException("writing the image for docker load failed", writeFailure.get());
        }
    }

    private static void addBytes(TarArchiveOutputStream tar, String name, byte[] data) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name);
        entry.setSize(data.length);
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    private static String json(String value) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Older images of this repository built from the host: their inputs changed, they will not be used again. */
    private void removeOtherTags(String keep) {
        try {
            for (Image image : docker.listImagesCmd().exec()) {
                if (image.getRepoTags() == null) {
                    continue;
                }
                for (String t : image.getRepoTags()) {
                    if (t.startsWith(REPOSITORY + ":host-") && !t.equals(keep)) {
                        docker.removeImageCmd(t).withNoPrune(false).exec();
                        log.println("harness: removed outdated image " + t);
                    }
                }
            }
        } catch (RuntimeException e) {
            log.println("harness: could not remove outdated images: " + oneLine(e));
        }
    }

    private Path hostJdk17() {
        if (!settings.jdk().isBlank()) {
            return Path.of(settings.jdk());
        }
        if (Runtime.version().feature() == 17) {
            return Path.of(System.getProperty("java.home"));
        }
        if (Files.isExecutable(Path.of(HOST_JDK17, "bin/java"))) {
            return Path.of(HOST_JDK17);
        }
        throw new IllegalStateException("no JDK 17 on the host to put in the image: run Maven with Java 17, "
                + "install openjdk-17-jdk-headless, or give one with -Disolation.it.jdk=DIR");
    }

    static Path busybox() {
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) {
            throw new IllegalStateException("the image needs a static busybox at /bin/busybox: apt-get install busybox-static");
        }
        return busybox;
    }

    /** The libraries (and the dynamic loader) these ELF files load, per ldd; libraries ldd cannot find are left out. */
    private static Set<String> sharedLibraries(List<Path> elfs) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ldd");
        elfs.forEach(p -> command.add(p.toString()));
        Set<String> libs = new LinkedHashSet<>();
        for (String line : run(command)) {
            Matcher m = LDD_PATH.matcher(line);
            if (m.find()) {
                libs.add(m.group(1));
            }
        }
        return libs;
    }

    private static List<String> run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        List<String> lines;
        try (InputStream in = p.getInputStream()) {
            lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
        p.waitFor();
        return lines;
    }

    private String javaOf(InspectImageResponse image) {
        if (image.getConfig() != null && image.getConfig().getEnv() != null) {
            for (String env : image.getConfig().getEnv()) {
                if (env.startsWith("JAVA_HOME=")) {
                    return env.substring("JAVA_HOME=".length()) + "/bin/java";
                }
            }
        }
        return "java";
    }

    private boolean exists(String image) {
        try {
            docker.inspectImageCmd(image).exec();
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private static String sha256(String... parts) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (String part : parts) {
            md.update(part.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static long millis(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    static String oneLine(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- ");
            }
            sb.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage());
            if (t.getCause() == t) {
                break;
            }
        }
        return sb.toString().replaceAll("\\s+", " ");
    }
}
