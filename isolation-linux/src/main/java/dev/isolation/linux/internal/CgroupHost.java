package dev.isolation.linux.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Parsing of what the kernel says about cgroups: the cgroup mounts in
 * {@code /proc/self/mountinfo} and the process's membership in {@code /proc/self/cgroup}, and
 * finding the directory of a cgroup path under a mount. Pure functions of the text given, so
 * that they are tested with fake files. Immutable.
 */
final class CgroupHost {
    private CgroupHost() {
    }

    /**
     * A cgroup filesystem mount.
     *
     * @param root the cgroup the mount shows at its mount point (field 4 of mountinfo), e.g.
     *        {@code /} or {@code /docker/1234} for a container's view
     * @param mountPoint where it is mounted, e.g. {@code /sys/fs/cgroup/memory}
     * @param unified cgroup2 rather than a v1 hierarchy
     * @param controllers the v1 controllers of the hierarchy (empty for cgroup2)
     * @param readOnly mounted read-only
     */
    record Mount(String root, String mountPoint, boolean unified, Set<String> controllers, boolean readOnly) {
    }

    /**
     * One line of /proc/PID/cgroup: {@code hierarchy-id:controllers:path}.
     *
     * @param hierarchy 0 for cgroup v2
     * @param controllers the v1 controllers of the hierarchy (may include {@code name=...});
     *        empty for cgroup v2
     * @param path the cgroup, relative to the reader's cgroup namespace
     */
    record Membership(int hierarchy, Set<String> controllers, String path) {
        boolean unified() {
            return hierarchy == 0 && controllers.isEmpty();
        }
    }

    /** The cgroup and cgroup2 mounts listed in a mountinfo text, in order. */
    static List<Mount> parseMountinfo(String mountinfo) {
        List<Mount> mounts = new ArrayList<>();
        for (String line : mountinfo.split("\n")) {
            String[] fields = line.trim().split(" ");
            int dash = Arrays.asList(fields).indexOf("-");
            if (dash < 6 || fields.length < dash + 4) {
                continue;
            }
            String type = fields[dash + 1];
            boolean unified = type.equals("cgroup2");
            if (!unified && !type.equals("cgroup")) {
                continue;
            }
            boolean readOnly = Arrays.asList(fields[5].split(",")).contains("ro");
            Set<String> controllers = new LinkedHashSet<>();
            if (!unified) {
                for (String option : fields[dash + 3].split(",")) {
                    if (!option.equals("rw") && !option.equals("ro") && !option.contains("=")
                            && !option.equals("noprefix") && !option.equals("clone_children") && !option.equals("xattr")
                            && !option.equals("cpuset_v2_mode")) {
                        controllers.add(option);
                    }
                }
            }
            mounts.add(new Mount(unescape(fields[3]), unescape(fields[4]), unified, Set.copyOf(controllers), readOnly));
        }
        return mounts;
    }

    /** The lines of a /proc/PID/cgroup text. */
    static List<Membership> parseProcCgroup(String text) {
        List<Membership> result = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.split(":", 3);
            if (parts.length != 3) {
                continue;
            }
            int id;
            try {
                id = Integer.parseInt(parts[0]);
            } catch (NumberFormatException e) {
                continue;
            }
            Set<String> controllers = parts[1].isEmpty() ? Set.of() : Set.of(parts[1].split(","));
            result.add(new Membership(id, controllers, parts[2]));
        }
        return result;
    }

    /** The v1 membership line of the hierarchy with {@code controller}. */
    static Optional<Membership> v1Membership(List<Membership> memberships, String controller) {
        return memberships.stream().filter(m -> m.hierarchy() != 0 && m.controllers().contains(controller)).findFirst();
    }

    /** The cgroup v2 line ({@code 0::/path}). */
    static Optional<Membership> unifiedMembership(List<Membership> memberships) {
        return memberships.stream().filter(Membership::unified).findFirst();
    }

    /** Whether the memory controller is bound to a v1 hierarchy: then limits use cgroup v1. */
    static boolean memoryOnV1(List<Membership> memberships) {
        return v1Membership(memberships, "memory").isPresent();
    }

    /** The mounts of the v1 hierarchy with {@code controller}, the one showing the most of it first. */
    static List<Mount> v1Mounts(List<Mount> mounts, String controller) {
        return mounts.stream().filter(m -> !m.unified() && m.controllers().contains(controller))
                .sorted((a, b) -> Integer.compare(a.root().length(), b.root().length())).toList();
    }

    /** The cgroup2 mounts, the one showing the most of the tree first. */
    static List<Mount> unifiedMounts(List<Mount> mounts) {
        return mounts.stream().filter(Mount::unified)
                .sorted((a, b) -> Integer.compare(a.root().length(), b.root().length())).toList();
    }

    /**
     * The directory of cgroup {@code path} under {@code mount}, when the mount shows it: the
     * mount point plus the part of the path below the mount's root.
     */
    static Optional<String> directoryOf(String path, Mount mount) {
        String root = mount.root();
        String below;
        if (root.equals("/")) {
            below = path.equals("/") ? "" : path;
        } else if (path.equals(root)) {
            below = "";
        } else if (path.startsWith(root + "/")) {
            below = path.substring(root.length());
        } else {
            return Optional.empty();
        }
        String base = mount.mountPoint().endsWith("/") && mount.mountPoint().length() > 1
                ? mount.mountPoint().substring(0, mount.mountPoint().length() - 1) : mount.mountPoint();
        return Optional.of(base + below);
    }

    /** The first of {@code mounts} that shows {@code path}, and the directory there. */
    static Optional<String> directoryOf(String path, List<Mount> mounts) {
        for (Mount mount : mounts) {
            Optional<String> dir = directoryOf(path, mount);
            if (dir.isPresent()) {
                return dir;
            }
        }
        return Optional.empty();
    }

    /** mountinfo escapes blanks, tabs, newlines and backslashes as \ooo. */
    static String unescape(String field) {
        if (field.indexOf('\\') < 0) {
            return field;
        }
        StringBuilder out = new StringBuilder(field.length());
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && isOctal(field, i + 1) && isOctal(field, i + 2) && isOctal(field, i + 3)) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int index) {
        return index < s.length() && s.charAt(index) >= '0' && s.charAt(index) <= '7';
    }

    /** The words of a cgroup.controllers or cgroup.subtree_control text. */
    static Set<String> words(String text) {
        Set<String> words = new LinkedHashSet<>();
        for (String word : text.trim().split("\\s+")) {
            if (!word.isEmpty()) {
                words.add(word);
            }
        }
        return words;
    }

    /** The pids in a cgroup.procs text. */
    static List<Long> pids(String text) {
        List<Long> pids = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (!line.isBlank()) {
                pids.add(Long.parseLong(line.trim()));
            }
        }
        return pids;
    }
}
