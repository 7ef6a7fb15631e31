package dev.isolation.it.harness;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * An image's root filesystem described in memory and written as one tar: the layer of a one-layer image.
 * Host paths are mirrored with the symlinks on their way ({@code /lib64 -> usr/lib64}, the JDK's links
 * into /etc), so the image has the host's layout for exactly the files put in; file modes (setuid
 * included) and owners are the host's.
 */
final class RootfsTree {
    private static final int MAX_LINKS = 40;

    private sealed interface Node permits Dir, HostFile, Content, Link {
    }

    private record Dir(int mode, int uid, int gid) implements Node {
    }

    private record HostFile(Path source, int mode, int uid, int gid, long size, long mtime) implements Node {
    }

    private record Content(byte[] data, int mode, int uid, int gid) implements Node {
    }

    private record Link(String target) implements Node {
    }

    /** Absolute, normalized path in the image -> node. Sorted, so parents come before children. */
    private final Map<String, Node> nodes = new TreeMap<>();
    private final List<String> notes = new ArrayList<>();

    RootfsTree() {
        nodes.put("/", new Dir(0755, 0, 0));
    }

    /** Things skipped while mirroring (dangling links), for the build log. */
    List<String> notes() {
        return notes;
    }

    void dir(String path, int mode, int uid, int gid) {
        parents(path);
        nodes.put(normalize(path), new Dir(mode, uid, gid));
    }

    void file(String path, String text, int mode) {
        parents(path);
        nodes.put(normalize(path), new Content(text.getBytes(StandardCharsets.UTF_8), mode, 0, 0));
    }

    void symlink(String path, String target) {
        parents(path);
        nodes.putIfAbsent(normalize(path), new Link(target));
    }

    boolean contains(String path) {
        return nodes.containsKey(normalize(path));
    }

    /**
     * Mirrors one host path (a file, a link or an empty directory) and the links and directories on
     * the way to it. Returns where it resolves to, in the image.
     */
    String addHost(String path) throws IOException {
        return addHost(normalize(path), 0);
    }

    private String addHost(String path, int depth) throws IOException {
        if (depth > MAX_LINKS) {
            throw new IOException("too many levels of symbolic links: " + path);
        }
        String resolved = "/";
        String[] parts = path.substring(1).split("/");
        for (int i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) {
                continue;
            }
            String candidate = join(resolved, parts[i]);
            Path host = Path.of(candidate);
            BasicFileAttributes attrs = Files.readAttributes(host, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (attrs.isSymbolicLink()) {
                String target = Files.readSymbolicLink(host).toString();
                String absolute = normalize(target.startsWith("/") ? target : join(parent(candidate), target));
                nodes.putIfAbsent(candidate, new Link(target));
                resolved = addHost(absolute, depth + 1);
            } else if (attrs.isDirectory()) {
                nodes.putIfAbsent(candidate, new Dir(mode(host), uid(host), gid(host)));
                resolved = candidate;
            } else if (attrs.isRegularFile() && i == parts.length - 1) {
                nodes.putIfAbsent(candidate, new HostFile(host, mode(host), uid(host), gid(host), attrs.size(),
                        attrs.lastModifiedTime().toMillis()));
                resolved = candidate;
            } else {
                throw new IOException("cannot mirror " + candidate + " (not a file, directory or link)");
            }
        }
        return resolved;
    }

    /** Mirrors a host directory tree, except what {@code skip} (given paths relative to root) rejects. */
    void addHostTree(Path root, Predicate<Path> skip) throws IOException {
        String resolved = addHost(root.toString());
        Path real = Path.of(resolved);
        try (Stream<Path> walk = Files.walk(real)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (p.equals(real) || skip.test(real.relativize(p))) {
                    continue;
                }
                try {
                    addHost(p.toString());
                } catch (NoSuchFileException e) {
                    notes.add("skipped dangling link " + p + " (" + e.getMessage() + " missing)");
                }
            }
        }
    }

    /** Resolves links among the image's own nodes; parts not in the image stay as they are. */
    String resolveInImage(String path) {
        String resolved = "/";
        String[] parts = normalize(path).substring(1).split("/");
        for (int depth = 0, i = 0; i < parts.length; i++) {
            if (parts[i].isEmpty()) {
                continue;
            }
            String candidate = join(resolved, parts[i]);
            Node node = nodes.get(candidate);
            if (node instanceof Link link && depth++ < MAX_LINKS) {
                String target = link.target().startsWith("/") ? link.target() : join(parent(candidate), link.target());
                resolved = resolveInImage(target);
            } else {
                resolved = candidate;
            }
        }
        return resolved;
    }

    /** A digest of everything that goes into the tar: paths, kinds, modes, owners, sizes, times, contents. */
    String digest(String salt) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(salt.getBytes(StandardCharsets.UTF_8));
            for (Map.Entry<String, Node> e : nodes.entrySet()) {
                md.update((e.getKey() + "\0" + describe(e.getValue()) + "\n").getBytes(StandardCharsets.UTF_8));
                if (e.getValue() instanceof Content c) {
                    md.update(c.data());
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String describe(Node node) {
        if (node instanceof Dir d) {
            return "dir " + Integer.toOctalString(d.mode()) + " " + d.uid() + ":" + d.gid();
        } else if (node instanceof HostFile f) {
            return "file " + f.source() + " " + Integer.toOctalString(f.mode()) + " " + f.uid() + ":" + f.gid() + " " + f.size() + " "
                    + f.mtime();
        } else if (node instanceof Content c) {
            return "content " + Integer.toOctalString(c.mode()) + " " + c.uid() + ":" + c.gid() + " " + c.data().length;
        } else {
            return "link " + ((Link) node).target();
        }
    }

    int size() {
        return nodes.size();
    }

    long bytes() {
        long total = 0;
        for (Node node : nodes.values()) {
            if (node instanceof HostFile f) {
                total += f.size();
            } else if (node instanceof Content c) {
                total += c.data().length;
            }
        }
        return total;
    }

    /** Writes the tree as a tar stream, paths relative to the root. */
    void writeTar(OutputStream target) throws IOException {
        TarArchiveOutputStream tar = new TarArchiveOutputStream(target);
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (Map.Entry<String, Node> e : nodes.entrySet()) {
            if (e.getKey().equals("/")) {
                continue;
            }
            String name = e.getKey().substring(1);
            Node node = e.getValue();
            TarArchiveEntry entry;
            if (node instanceof Dir d) {
                entry = new TarArchiveEntry(name + "/", TarConstants.LF_DIR);
                entry.setMode(0040000 | d.mode());
                entry.setIds(d.uid(), d.gid());
                tar.putArchiveEntry(entry);
            } else if (node instanceof Link l) {
                entry = new TarArchiveEntry(name, TarConstants.LF_SYMLINK);
                entry.setLinkName(l.target());
                entry.setMode(0120777);
                tar.putArchiveEntry(entry);
            } else if (node instanceof HostFile f) {
                entry = new TarArchiveEntry(name);
                entry.setMode(0100000 | f.mode());
                entry.setIds(f.uid(), f.gid());
                entry.setSize(Files.size(f.source()));
                entry.setModTime(f.mtime());
                tar.putArchiveEntry(entry);
                try (InputStream in = Files.newInputStream(f.source())) {
                    in.transferTo(tar);
                }
            } else {
                Content c = (Content) node;
                entry = new TarArchiveEntry(name);
                entry.setMode(0100000 | c.mode());
                entry.setIds(c.uid(), c.gid());
                entry.setSize(c.data().length);
                entry.setModTime(0);
                tar.putArchiveEntry(entry);
                tar.write(c.data());
            }
            tar.closeArchiveEntry();
        }
        tar.finish();
        tar.flush();
    }

    private void parents(String path) {
        String p = parent(normalize(path));
        List<String> missing = new ArrayList<>();
        while (!nodes.containsKey(p)) {
            missing.add(0, p);
            p = parent(p);
        }
        for (String dir : missing) {
            nodes.put(dir, new Dir(0755, 0, 0));
        }
    }

    private static int mode(Path p) throws IOException {
        return ((Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)) & 07777;
    }

    private static int uid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    private static int gid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS);
    }

    static String normalize(String path) {
        String n = Path.of("/").resolve(path).normalize().toString();
        return n.isEmpty() ? "/" : n;
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    private static String join(String dir, String name) {
        return dir.endsWith("/") ? dir + name : dir + "/" + name;
    }
}
