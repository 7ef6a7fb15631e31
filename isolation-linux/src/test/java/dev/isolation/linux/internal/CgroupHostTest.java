package dev.isolation.linux.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CgroupHostTest {
    /** Abridged from a Debian host with the hybrid layout (v1 controllers, cgroup2 without them). */
    static final String HYBRID_MOUNTINFO = String.join("\n",
            "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
            "25 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755",
            "26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw,nsdelegate",
            "27 25 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,xattr,name=systemd",
            "30 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory",
            "31 25 0:29 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids",
            "32 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct",
            "33 25 0:31 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:17 - cgroup cgroup rw,freezer",
            "");

    static final String HYBRID_CGROUP = String.join("\n",
            "7:freezer:/",
            "6:cpu,cpuacct:/user.slice",
            "5:pids:/user.slice/user-1000.slice/session-2.scope",
            "4:memory:/user.slice/user-1000.slice/session-2.scope",
            "1:name=systemd:/user.slice/user-1000.slice/session-2.scope",
            "0::/user.slice/user-1000.slice/session-2.scope",
            "");

    @Test
    void findsTheCgroupMountsAndTheirControllers() {
        List<CgroupHost.Mount> mounts = CgroupHost.parseMountinfo(HYBRID_MOUNTINFO);
        assertThat(mounts).extracting(CgroupHost.Mount::mountPoint).containsExactly("/sys/fs/cgroup/unified",
                "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct",
                "/sys/fs/cgroup/freezer");
        assertThat(mounts.get(0).unified()).isTrue();
        assertThat(mounts.get(0).controllers()).isEmpty();
        assertThat(mounts.get(1).controllers()).isEmpty(); // name=systemd, xattr: no controller
        assertThat(mounts.get(4).controllers()).containsExactlyInAnyOrder("cpu", "cpuacct");
        assertThat(CgroupHost.v1Mounts(mounts, "cpuacct")).extracting(CgroupHost.Mount::mountPoint)
                .containsExactly("/sys/fs/cgroup/cpu,cpuacct");
        assertThat(CgroupHost.unifiedMounts(mounts)).hasSize(1);
    }

    @Test
    void readOnlyMountsAndEscapedPaths() {
        List<CgroupHost.Mount> mounts = CgroupHost.parseMountinfo(
                "40 25 0:40 /docker/abc /sys/fs/cgroup/my\\040memory ro,nosuid - cgroup cgroup ro,memory\n");
        assertThat(mounts).singleElement().satisfies(m -> {
            assertThat(m.mountPoint()).isEqualTo("/sys/fs/cgroup/my memory");
            assertThat(m.root()).isEqualTo("/docker/abc");
            assertThat(m.readOnly()).isTrue();
            assertThat(m.controllers()).containsExactly("memory");
        });
    }

    @Test
    void parsesProcSelfCgroup() {
        List<CgroupHost.Membership> lines = CgroupHost.parseProcCgroup(HYBRID_CGROUP);
        assertThat(CgroupHost.v1Membership(lines, "memory")).hasValueSatisfying(m -> {
            assertThat(m.hierarchy()).isEqualTo(4);
            assertThat(m.path()).isEqualTo("/user.slice/user-1000.slice/session-2.scope");
        });
        assertThat(CgroupHost.v1Membership(lines, "cpuacct")).hasValueSatisfying(m -> assertThat(m.path()).isEqualTo("/user.slice"));
        assertThat(CgroupHost.unifiedMembership(lines)).hasValueSatisfying(m -> assertThat(m.unified()).isTrue());
        assertThat(CgroupHost.memoryOnV1(lines)).isTrue();

        List<CgroupHost.Membership> v2 = CgroupHost.parseProcCgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope\n");
        assertThat(CgroupHost.memoryOnV1(v2)).isFalse();
        assertThat(CgroupHost.unifiedMembership(v2)).hasValueSatisfying(
                m -> assertThat(m.path()).endsWith("run-r1.scope"));
        // a path may contain ':' (it is the third field, not split further)
        assertThat(CgroupHost.parseProcCgroup("0::/a:b\n")).singleElement().satisfies(m -> assertThat(m.path()).isEqualTo("/a:b"));
    }

    @Test
    void directoryOfACgroupUnderAMountRootedElsewhere() {
        CgroupHost.Mount whole = new CgroupHost.Mount("/", "/sys/fs/cgroup/memory", false, Set.of("memory"), false);
        CgroupHost.Mount container = new CgroupHost.Mount("/docker/abc", "/sys/fs/cgroup/memory", false, Set.of("memory"), false);
        assertThat(CgroupHost.directoryOf("/", whole)).hasValue("/sys/fs/cgroup/memory");
        assertThat(CgroupHost.directoryOf("/a/b", whole)).hasValue("/sys/fs/cgroup/memory/a/b");
        assertThat(CgroupHost.directoryOf("/docker/abc", container)).hasValue("/sys/fs/cgroup/memory");
        assertThat(CgroupHost.directoryOf("/docker/abc/x", container)).hasValue("/sys/fs/cgroup/memory/x");
        assertThat(CgroupHost.directoryOf("/docker/abcd", container)).isEmpty();
        assertThat(CgroupHost.directoryOf("/other", List.of(container, whole))).hasValue("/sys/fs/cgroup/memory/other");
    }

    @Test
    void controllerListsAndPids() {
        assertThat(CgroupHost.words("cpuset cpu io memory pids\n")).containsExactly("cpuset", "cpu", "io", "memory", "pids");
        assertThat(CgroupHost.words("\n")).isEmpty();
        assertThat(CgroupHost.pids("12\n345\n")).containsExactly(12L, 345L);
    }
}
