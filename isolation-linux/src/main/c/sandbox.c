/*
 * Child side of a launch, from clone() to execve(). Runs in a copy of the helper's memory, in
 * the new namespaces. Any failure is reported to the helper as one struct exec_status on the
 * status pipe, followed by _exit(127); a successful execve closes the pipe (CLOEXEC) instead.
 *
 * The child came from a raw clone(), so glibc's idea of the current thread is stale: only
 * plain syscalls and simple libc functions are used here (no abort/raise/assert, no stdio
 * streams), and credential changes go through syscall() to bypass glibc's setxid machinery.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#define STAGING "/tmp"     /* host directory that gets the staging tmpfs */
#define NEWROOT "/newroot" /* paths below are valid after the first pivot */
#define OLDROOT "/oldroot"
#define LONG_PATH 4200     /* room for a prefix plus a PATH_MAX path */

static int status_fd = -1;

/* Reports a failed step to the helper and ends the child. */
static _Noreturn void fail(int err, const char *step, const char *path)
{
    child_fail(status_fd, err, step, path);
}

static _Noreturn void fail2(int err, const char *step, const char *a, const char *sep,
                            const char *b)
{
    char path[LONG_PATH];
    snprintf(path, sizeof path, "%s%s%s", a, sep, b);
    fail(err, step, path);
}

/* prefix + path into buf (a LONG_PATH buffer); too long => fail with ENAMETOOLONG. */
static char *join(char *buf, const char *prefix, const char *path, const char *step)
{
    if ((size_t)snprintf(buf, LONG_PATH, "%s%s", prefix, path) >= LONG_PATH)
        fail(ENAMETOOLONG, step, path);
    return buf;
}

/* ---- signals, stdio, helper liveness ---------------------------------------------------- */

void child_reset_signals(void)
{
    /* The helper reset every disposition at start and then ignored only these; handlers are
     * reset by execve anyway, so restoring these gives the sandbox all-default dispositions. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (size_t i = 0; i < helper_ignored_signal_count; i++)
        sigaction(helper_ignored_signals[i], &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int child_setup_stdio(const int stdio[3])
{
    int fds[3] = {stdio[0], stdio[1], stdio[2]};
    for (int i = 0; i < 3; i++) /* above 2 first, so that no dup2 clobbers another */
        if (fds[i] < 3 && (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3)) < 0)
            return -1;
    for (int i = 0; i < 3; i++) /* dup2 clears CLOEXEC on 0-2; the originals stay CLOEXEC */
        if (dup2(fds[i], i) < 0)
            return -1;
    return 0;
}

/*
 * PDEATHSIG is cleared when the effective ids change. After re-arming it, make sure the helper
 * did not die in between: it holds the sync pipe's write end open until the exec outcome is
 * known, so a hang-up there means it is gone.
 */
static void rearm_pdeathsig(int sync_read)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail(errno, "set parent death signal", "");
    struct pollfd p = {.fd = sync_read, .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
        _exit(1);
}

/* ---- mount helpers ---------------------------------------------------------------------- */

/* Remounts the mount at `path` read-only, keeping the flags that a user namespace may not
 * clear (nosuid, nodev, ...), as statvfs reports them. */
static int remount_readonly(const char *path)
{
    struct statvfs sv;
    if (statvfs(path, &sv) < 0)
        return -1;
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    if (sv.f_flag & ST_NOSUID)
        flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV)
        flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME)
        flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME)
        flags |= MS_RELATIME;
    return mount(NULL, path, NULL, flags, NULL);
}

/* Reads a whole (proc) file into a NUL-terminated malloc'd buffer; NULL with errno. */
static char *read_file(const char *path)
{
    return lifecycle_read_at(AT_FDCWD, path);
}

/* mountinfo escapes blanks, newlines and backslashes in paths as \ooo (octal). */
static void unescape_octal(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Without mount_setattr: remount every mount at or below `path` read-only, as listed in our
 * mountinfo. Runs before the final pivot, so the host's /proc is at /oldroot/proc. */
static int remount_tree_readonly(const char *path)
{
    char *info = read_file(OLDROOT "/proc/self/mountinfo");
    if (!info)
        return -1;
    size_t plen = strlen(path);
    int rc = 0;
    for (char *line = info, *next; line && *line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        /* "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ...": the fifth field */
        char *mp = line;
        for (int i = 0; i < 4 && mp; i++)
            if ((mp = strchr(mp, ' ')) != NULL)
                mp++;
        char *end = mp ? strchr(mp, ' ') : NULL;
        if (!end)
            continue;
        *end = '\0';
        unescape_octal(mp);
        if (strncmp(mp, path, plen) == 0 && (mp[plen] == '\0' || mp[plen] == '/'))
            rc = remount_readonly(mp);
    }
    free(info);
    return rc;
}

/* Read-only with mount_setattr (recursive if asked), else by remounting (kernels < 5.12). */
static int make_readonly(const char *path, bool recursive)
{
    struct iso_mount_attr attr = {.attr_set = ISO_MOUNT_ATTR_RDONLY};
    if (iso_mount_setattr(AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr) == 0)
        return 0;
    if (errno != ENOSYS)
        return -1;
    return recursive ? remount_tree_readonly(path) : remount_readonly(path);
}

/*
 * Set while a spare builds a root ahead (prepare_root): setup_root records there the identity
 * of each host path it pinned, in sandbox_host_paths order. And it must not write to the
 * rootfs, which its owner may be changing or deleting after the last launch ended: a missing
 * mount point ends the spare, and the launch goes the direct way, which makes it.
 */
static struct prepared_ready *ahead;

/* mkdir that accepts an existing path (EEXIST wins over EROFS in the kernel); while building
 * ahead, only an existing directory. */
static int ensure_dir(const char *path)
{
    if (ahead) {
        struct stat st;
        if (stat(path, &st) < 0)
            return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
        return 0;
    }
    if (mkdir(path, 0755) == 0 || errno == EEXIST)
        return 0;
    return -1;
}

/* mkdir -p of every parent of `path` (not of path itself). */
static int ensure_parents(char *path)
{
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int rc = ensure_dir(path);
        *slash = '/';
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Creates a missing mount point: a directory, or an empty file to bind a file on. */
static int make_mount_point(char *path, bool directory)
{
    struct stat st;
    if (stat(path, &st) == 0)
        return 0;
    if (errno != ENOENT || ahead || ensure_parents(path) < 0)
        return -1;
    if (directory)
        return ensure_dir(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* A sandbox path: absolute and without ".." components (which could climb out of /newroot). */
static bool valid_dest(const char *dest)
{
    if (dest[0] != '/')
        return false;
    for (const char *p = dest; (p = strstr(p, "..")) != NULL; p += 2) {
        bool starts = p[-1] == '/';
        bool ends = p[2] == '/' || p[2] == '\0';
        if (starts && ends)
            return false;
    }
    return true;
}

static bool no_open_tree; /* kernel < 5.2 */

/* open_tree, move_mount and mount_setattr all exist (5.12+): see sandbox_probe_kernel */
static bool new_mount_api;

void sandbox_probe_kernel(void)
{
    /* Unknown flags: EINVAL where the call exists, ENOSYS where it does not. Valid flags
     * would not do: mount_setattr with an empty attribute set returns 0 before looking at
     * its path, which is indistinguishable from "absent" for a check on failure. */
    errno = 0;
    bool tree = iso_open_tree(-1, "", ~0u) < 0 && errno != ENOSYS;
    struct iso_mount_attr attr = {0};
    errno = 0;
    bool setattr = iso_mount_setattr(-1, "", ~0u, &attr) < 0 && errno != ENOSYS;
    new_mount_api = tree && setattr;
}

/*
 * Pins a host path (root or bind source) before the first pivot, while host paths resolve
 * normally, so that absolute symlinks on the way are followed in the host's root: a detached
 * recursive clone of the mount tree there (open_tree), or an O_PATH fd on old kernels.
 */
static int pin_host_path(const char *host_path)
{
    if (!no_open_tree) {
        int fd = iso_open_tree(AT_FDCWD, host_path,
                               ISO_OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
        if (fd >= 0 || errno != ENOSYS)
            return fd;
        no_open_tree = true;
    }
    return open(host_path, O_PATH | O_CLOEXEC);
}

/* Mounts a pinned host path on target (recursively) and closes the pin. */
static int attach_host_path(int pin, const char *target)
{
    int rc;
    if (!no_open_tree) {
        rc = iso_move_mount(pin, "", AT_FDCWD, target, ISO_MOVE_MOUNT_F_EMPTY_PATH);
    } else {
        /* the host's /proc is still reachable at /oldroot/proc */
        char source[64];
        snprintf(source, sizeof source, OLDROOT "/proc/self/fd/%d", pin);
        rc = mount(source, target, NULL, MS_BIND | MS_REC, NULL);
    }
    int saved = errno;
    close(pin);
    errno = saved;
    return rc;
}

/* The host's device nodes a sandbox gets, bound one by one onto files in its /dev tmpfs. */
static const char *const dev_nodes[] = {"/dev/null", "/dev/zero", "/dev/full",
                                        "/dev/random", "/dev/urandom", "/dev/tty"};
#define DEV_NODE_COUNT (sizeof dev_nodes / sizeof dev_nodes[0])

static void make_symlink(const char *root, const char *target, const char *link)
{
    char path[LONG_PATH];
    if (symlink(target, join(path, root, link, "create symlink")) < 0)
        fail(errno, "create symlink", link);
}

/* /dev under `root` ("" once inside the new root): a tmpfs with the pinned host nodes bound
 * on it, a private devpts, and /dev/shm as a plain directory of the same tmpfs (one tmpfs
 * instance less per sandbox; noexec like Docker's). */
static void setup_dev(const char *root, const int pins[DEV_NODE_COUNT])
{
    char path[LONG_PATH];
    if (ensure_dir(join(path, root, "/dev", "create mount point")) < 0)
        fail(errno, "create mount point", "/dev");
    if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
        fail(errno, "mount /dev", "/dev");
    for (size_t i = 0; i < DEV_NODE_COUNT; i++) {
        const char *name = dev_nodes[i];
        char step[48];
        snprintf(step, sizeof step, "bind %s", name);
        int fd = open(join(path, root, name, step), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0666);
        if (fd < 0)
            fail(errno, step, name);
        close(fd);
        if (attach_host_path(pins[i], path) < 0)
            fail(errno, step, name);
    }

    /* a private devpts; no gid= option, since gid 5 may be unmapped in a user namespace */
    if (mkdir(join(path, root, "/dev/pts", "mount /dev/pts"), 0755) < 0)
        fail(errno, "mount /dev/pts", "/dev/pts");
    if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
        fail(errno, "mount /dev/pts", "/dev/pts");
    make_symlink(root, "pts/ptmx", "/dev/ptmx");

    /* sticky and world-writable: chmod, since mkdir's mode passes through the umask */
    if (mkdir(join(path, root, "/dev/shm", "create /dev/shm"), 0755) < 0 || chmod(path, 01777) < 0)
        fail(errno, "create /dev/shm", "/dev/shm");

    make_symlink(root, "/proc/self/fd", "/dev/fd");
    make_symlink(root, "/proc/self/fd/0", "/dev/stdin");
    make_symlink(root, "/proc/self/fd/1", "/dev/stdout");
    make_symlink(root, "/proc/self/fd/2", "/dev/stderr");
}

/* /proc under `root`: a fresh one for a new PID namespace (allowed while the host's /proc is
 * still in this mount namespace), else the pinned host /proc. */
static void setup_proc(const char *root, uint64_t flags, int proc_pin)
{
    char path[LONG_PATH];
    if (ensure_dir(join(path, root, "/proc", "create mount point")) < 0)
        fail(errno, "create mount point", "/proc");
    int rc = (flags & CLONE_NEWPID) ? mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)
                                    : attach_host_path(proc_pin, path);
    if (rc < 0)
        fail(errno, "mount proc", "/proc");
}

/* One MOUNT TLV under `root`; `pin` is the pinned source of a bind mount. */
static void setup_mount(const char *root, const struct mount_spec *m, int pin)
{
    char target[LONG_PATH];
    const char *step = m->kind == ISO_MOUNT_BIND ? "bind mount" : "mount tmpfs";
    join(target, root, m->dest, step);

    if (m->kind == ISO_MOUNT_BIND) {
        struct stat st;
        if (fstat(pin, &st) < 0)
            fail2(errno, step, m->source, " on ", m->dest);
        if (make_mount_point(target, S_ISDIR(st.st_mode)) < 0)
            fail(errno, "create mount point", m->dest);
        if (attach_host_path(pin, target) < 0)
            fail2(errno, step, m->source, " on ", m->dest);
        if ((m->flags & ISO_MOUNTF_READONLY) && make_readonly(target, true) < 0)
            fail(errno, "make bind read-only", m->dest);
    } else {
        if (make_mount_point(target, true) < 0)
            fail(errno, "create mount point", m->dest);
        char options[64] = "";
        if (m->size > 0)
            snprintf(options, sizeof options, "size=%llu", (unsigned long long)m->size);
        if (mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options) < 0)
            fail(errno, step, m->dest);
        if ((m->flags & ISO_MOUNTF_READONLY) && make_readonly(target, false) < 0)
            fail(errno, "make tmpfs read-only", m->dest);
    }
}

/*
 * The host root of a sandbox without a rootfs: a tmpfs holding a recursive, read-only bind of
 * each top-level host directory and file, and copies of the top-level symlinks. Mount points
 * for the sandbox's own mounts can then be made at the top level without touching the host;
 * deeper inside a host directory they fail with EROFS. /proc, /dev and /tmp stay empty here:
 * fresh ones are mounted on them.
 */
static void setup_host_root(void)
{
    if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        fail(errno, "bind root", "/");
    DIR *dir = opendir(OLDROOT);
    if (!dir)
        fail(errno, "bind root", "/");
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        const char *name = entry->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        char host[LONG_PATH], inside[LONG_PATH];
        snprintf(host, sizeof host, OLDROOT "/%s", name);
        snprintf(inside, sizeof inside, NEWROOT "/%s", name);
        struct stat st;
        if (lstat(host, &st) < 0)
            continue; /* vanished meanwhile */
        if (S_ISLNK(st.st_mode)) {
            char target[LONG_PATH];
            ssize_t n = readlink(host, target, sizeof target - 1);
            if (n < 0)
                fail(errno, "bind root", host + strlen(OLDROOT));
            target[n] = '\0';
            if (symlink(target, inside) < 0)
                fail(errno, "bind root", host + strlen(OLDROOT));
            continue;
        }
        bool directory = S_ISDIR(st.st_mode);
        if (!directory && !S_ISREG(st.st_mode))
            continue; /* sockets, fifos, devices at the top level: not part of the view */
        if (make_mount_point(inside, directory) < 0)
            fail(errno, "bind root", host + strlen(OLDROOT));
        if (directory && (strcmp(name, "proc") == 0 || strcmp(name, "dev") == 0 || strcmp(name, "tmp") == 0))
            continue;
        if (mount(host, inside, NULL, MS_BIND | MS_REC, NULL) < 0)
            fail(errno, "bind root", host + strlen(OLDROOT));
        if (make_readonly(inside, true) < 0)
            fail(errno, "make root read-only", host + strlen(OLDROOT));
    }
    closedir(dir);
}

/*
 * Pivots into the current directory with new root and put_old in one place: the old root ends
 * up stacked on the new one and is detached from there, with everything below it.
 */
static void pivot_to_cwd(const char *root_name, const char *detach_step)
{
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        fail(errno, "pivot_root", root_name);
    if (umount2(".", MNT_DETACH) < 0)
        fail(errno, detach_step, "/");
    if (chdir("/") < 0)
        fail(errno, "pivot_root", root_name);
}

/*
 * The root when a rootfs is given and the kernel has the new mount API (5.12+): no staging
 * root. The rootfs is stacked on the host's "/" and entered with chroot, so that the mount
 * points made in it resolve inside it (an absolute symlink in an untrusted rootfs cannot send
 * a mkdir to the host); host paths were all pinned before. Back at the host's root, the
 * rootfs is pivoted in and the host's tree detached. This saves a tmpfs instance and a
 * pivot_root, which walks every process on the host, per sandbox.
 */
static void setup_root_in_place(const struct launch_spec *s, uint64_t flags, int root_pin,
                                const int *pins, const int dev_pins[DEV_NODE_COUNT], int proc_pin)
{
    const char *root_name = s->rootfs;
    int host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (host_root < 0)
        fail(errno, "pivot_root", root_name);
    if (iso_move_mount(root_pin, "", AT_FDCWD, "/", ISO_MOVE_MOUNT_F_EMPTY_PATH) < 0)
        fail(errno, "bind root", root_name);
    if (fchdir(root_pin) < 0 || chroot(".") < 0)
        fail(errno, "enter root", root_name);
    close(root_pin);
    if (!s->root_writable && make_readonly("/", true) < 0)
        fail(errno, "make root read-only", root_name);

    setup_proc("", flags, proc_pin);
    setup_dev("", dev_pins);
    for (size_t i = 0; i < s->mount_count; i++)
        setup_mount("", &s->mounts[i], pins[i]);

    int new_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (new_root < 0 || fchdir(host_root) < 0 || chroot(".") < 0 || fchdir(new_root) < 0)
        fail(errno, "pivot_root", root_name);
    pivot_to_cwd(root_name, "detach host root");
    close(new_root);
    close(host_root);
}

/* Records a pinned host path's identity while building ahead (see `ahead`). */
static void record_pin(int pin)
{
    struct stat st;
    if (ahead->id_count >= PREPARED_IDS_MAX || fstat(pin, &st) < 0)
        fail(ahead->id_count >= PREPARED_IDS_MAX ? E2BIG : errno, "pin host path", "");
    ahead->ids[ahead->id_count++] = (struct host_id){.dev = st.st_dev, .ino = st.st_ino};
}

/*
 * Builds the sandbox's root in its own mount namespace. Every host path it needs is pinned
 * first (a detached clone of its mount tree), while host paths still resolve in the host's
 * root. With a rootfs on a recent kernel, setup_root_in_place takes over from there.
 * Otherwise a tmpfs is pivoted in as a staging root, with the host root at /oldroot and the
 * future root at /newroot; everything is assembled under /newroot, which is pivoted in; then
 * the staging root and the host are detached entirely.
 */
static void setup_root(const struct launch_spec *s, uint64_t flags)
{
    const char *root_name = s->rootfs ? s->rootfs : "/";

    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        fail(errno, "make mounts private", "/");

    /* Host paths are resolved now, in the host's root; they are attached later. */
    if (root_name[0] != '/')
        fail(EINVAL, "bind root", root_name);
    int root_pin = -1;
    if (s->rootfs) {
        struct stat root_st;
        if ((root_pin = pin_host_path(root_name)) < 0 || fstat(root_pin, &root_st) < 0)
            fail(errno, "bind root", root_name);
        if (!S_ISDIR(root_st.st_mode)) /* else a vague EINVAL from move_mount */
            fail(ENOTDIR, "bind root", root_name);
    }
    int *pins = NULL;
    if (s->mount_count > 0 && !(pins = malloc(s->mount_count * sizeof *pins)))
        fail(ENOMEM, "bind mount", "");
    for (size_t i = 0; i < s->mount_count; i++) {
        const struct mount_spec *m = &s->mounts[i];
        const char *step = m->kind == ISO_MOUNT_BIND ? "bind mount" : "mount tmpfs";
        if (!valid_dest(m->dest))
            fail(EINVAL, step, m->dest);
        pins[i] = -1;
        if (m->kind == ISO_MOUNT_BIND) {
            if (m->source[0] != '/')
                fail2(EINVAL, step, m->source, " on ", m->dest);
            if ((pins[i] = pin_host_path(m->source)) < 0)
                fail2(errno, step, m->source, " on ", m->dest);
        }
    }
    int dev_pins[DEV_NODE_COUNT];
    for (size_t i = 0; i < DEV_NODE_COUNT; i++)
        if ((dev_pins[i] = pin_host_path(dev_nodes[i])) < 0)
            fail(errno, "bind /dev node", dev_nodes[i]);
    int proc_pin = -1;
    if (!(flags & CLONE_NEWPID) && (proc_pin = pin_host_path("/proc")) < 0)
        fail(errno, "mount proc", "/proc");

    if (ahead) { /* sandbox_host_paths order */
        if (root_pin >= 0)
            record_pin(root_pin);
        for (size_t i = 0; i < s->mount_count; i++)
            if (pins[i] >= 0)
                record_pin(pins[i]);
        for (size_t i = 0; i < DEV_NODE_COUNT; i++)
            record_pin(dev_pins[i]);
        if (proc_pin >= 0)
            record_pin(proc_pin);
    }

    if (s->rootfs && new_mount_api) {
        setup_root_in_place(s, flags, root_pin, pins, dev_pins, proc_pin);
        free(pins);
        return;
    }

    if (mount("tmpfs", STAGING, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
        fail(errno, "mount staging tmpfs", STAGING);
    if (mkdir(STAGING NEWROOT, 0755) < 0 || mkdir(STAGING OLDROOT, 0755) < 0)
        fail(errno, "mount staging tmpfs", STAGING);
    if (chdir(STAGING) < 0)
        fail(errno, "pivot_root", STAGING);
    if (syscall(SYS_pivot_root, ".", OLDROOT + 1) < 0)
        fail(errno, "pivot_root", STAGING);
    if (chdir("/") < 0)
        fail(errno, "pivot_root", STAGING);

    /* the root; the host root is always read-only */
    if (s->rootfs) {
        if (attach_host_path(root_pin, NEWROOT) < 0)
            fail(errno, "bind root", root_name);
        if (!s->root_writable && make_readonly(NEWROOT, true) < 0)
            fail(errno, "make root read-only", root_name);
    } else {
        setup_host_root();
    }

    setup_proc(NEWROOT, flags, proc_pin);
    setup_dev(NEWROOT, dev_pins);

    if (!s->rootfs) {
        if (mount("tmpfs", NEWROOT "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
            fail(errno, "mount /tmp", "/tmp");
    }

    for (size_t i = 0; i < s->mount_count; i++)
        setup_mount(NEWROOT, &s->mounts[i], pins[i]);
    free(pins);

    /* the host root's tmpfs held the mount points; now it too becomes read-only */
    if (!s->rootfs && make_readonly(NEWROOT, false) < 0)
        fail(errno, "make root read-only", "/");

    if (chdir(NEWROOT) < 0)
        fail(errno, "pivot_root", root_name);
    /* the staging root goes together with the host's tree still hanging at /oldroot: one
     * detach instead of two, since each lazy umount waits for an RCU grace period */
    pivot_to_cwd(root_name, "detach staging root");
}

/* ---- roots built ahead (prepared.c) ---------------------------------------------------- */

bool sandbox_root_preparable(const struct launch_spec *spec)
{
    return spec->rootfs && new_mount_api && (spec->clone_flags & CLONE_NEWNS) &&
           sandbox_host_paths(spec, NULL, 0) <= PREPARED_IDS_MAX;
}

size_t sandbox_host_paths(const struct launch_spec *spec, const char **paths, size_t max)
{
    size_t n = 0;
#define ADD(p)            \
    do {                  \
        if (n < max)      \
            paths[n] = p; \
        n++;              \
    } while (0)
    if (spec->rootfs)
        ADD(spec->rootfs);
    for (size_t i = 0; i < spec->mount_count; i++)
        if (spec->mounts[i].kind == ISO_MOUNT_BIND)
            ADD(spec->mounts[i].source);
    for (size_t i = 0; i < DEV_NODE_COUNT; i++)
        ADD(dev_nodes[i]);
    if (!(spec->clone_flags & CLONE_NEWPID))
        ADD("/proc");
#undef ADD
    return n;
}

/* ---- the rest of the set-up ------------------------------------------------------------- */

static void bring_up_lo(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail(errno, "bring up lo", "lo");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        fail(errno, "bring up lo", "lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
        fail(errno, "bring up lo", "lo");
    close(fd);
}

/* Whether setgroups(2) is denied in this user namespace ("deny" in /proc/self/setgroups). */
static bool setgroups_denied(void)
{
    int fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[8] = "";
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 4 && strncmp(buf, "deny", 4) == 0;
}

static void run_as(const struct launch_spec *s, uint64_t flags, int sync_read)
{
    /* in a user namespace made with setgroups denied, setgroups() can only fail */
    bool skip_groups = (flags & CLONE_NEWUSER) && s->setgroups_deny;
    if (!skip_groups && syscall(SYS_setgroups, 0, NULL) < 0) {
        if (!(errno == EPERM && setgroups_denied()))
            fail(errno, "setgroups", "");
    }
    if (syscall(SYS_setresgid, s->run_gid, s->run_gid, s->run_gid) < 0)
        fail(errno, "setresgid", "");
    if (syscall(SYS_setresuid, s->run_uid, s->run_uid, s->run_uid) < 0)
        fail(errno, "setresuid", "");
    rearm_pdeathsig(sync_read);
}

static const char *env_value(char *const envp[], const char *name)
{
    size_t len = strlen(name);
    for (; *envp; envp++)
        if (strncmp(*envp, name, len) == 0 && (*envp)[len] == '=')
            return *envp + len + 1;
    return NULL;
}

/* execve, searching PATH (from the sandbox's environment) like execvp when there's no '/'. */
static _Noreturn void exec_command(const struct launch_spec *s)
{
    trace_event(trace_launch_id, "exec");
    const char *cmd = s->argv[0];
    /* every fd above stderr closes at exec; ours are CLOEXEC already, so ignore errors */
    iso_close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);

    if (cmd[0] == '\0')
        fail(ENOENT, "execve", cmd);
    if (strchr(cmd, '/')) {
        execve(cmd, s->argv, s->envp);
        fail(errno, "execve", cmd);
    }

    const char *search = env_value(s->envp, "PATH");
    if (!search)
        search = "/usr/local/bin:/usr/bin:/bin";
    size_t cmdlen = strlen(cmd);
    int err = ENOENT;
    char denied[LONG_PATH] = "";
    char candidate[LONG_PATH];
    for (const char *p = search;; p++) {
        const char *end = strchrnul(p, ':');
        size_t dirlen = (size_t)(end - p);
        if (dirlen == 0) { /* an empty entry means the current directory */
            p = ".";
            dirlen = 1;
        }
        if (dirlen + 1 + cmdlen < sizeof candidate) {
            memcpy(candidate, p, dirlen);
            candidate[dirlen] = '/';
            memcpy(candidate + dirlen + 1, cmd, cmdlen + 1);
            execve(candidate, s->argv, s->envp);
            switch (errno) {
            case EACCES: /* remember, but a later entry may still work */
                err = EACCES;
                if (!denied[0])
                    memcpy(denied, candidate, dirlen + 1 + cmdlen + 1);
                break;
            case ENOENT:
            case ENOTDIR:
            case ESTALE:
            case ENODEV:
            case ETIMEDOUT:
                break;
            default:
                fail(errno, "execve", candidate);
            }
        }
        if (*end == '\0')
            break;
        p = end;
    }
    fail(err, "execve", err == EACCES ? denied : cmd);
}

/*
 * Sends the helper our new mount namespace, so that it holds it before the command can end
 * (teardown.c): otherwise a command as short as /bin/true often exits before the helper
 * could open it, and its own exit then pays for unmounting the whole tree. Best effort: the
 * helper falls back to /proc/PID/ns/mnt at exec.
 */
static void hand_over_mount_ns(void)
{
    int ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
    if (ns < 0)
        return;
    send_fd(status_fd, ns, 0);
    close(ns);
}

/* In a new user namespace whose maps leave the helper's ids out: takes the mapped identity
 * (see sandbox_plan), dropping the helper's supplementary groups with it when setgroups is
 * still allowed. Before any mount, which an unmapped id could not make. */
static void take_mapped_ids(const struct launch_spec *s, const struct sandbox_plan *plan, int sync_read)
{
    if ((plan->switch_uid || plan->switch_gid) && !s->setgroups_deny &&
        syscall(SYS_setgroups, 0, NULL) < 0)
        fail(errno, "setgroups", "");
    if (plan->switch_gid && syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) < 0)
        fail(errno, "setresgid", "");
    if (plan->switch_uid) {
        if (syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) < 0)
            fail(errno, "setresuid", "");
        rearm_pdeathsig(sync_read);
    }
}

/* The part of the set-up that a spare can do ahead (prepare_root): the mount namespace handed
 * over, the mapped identity, a new session, and the root. */
static void enter_root(const struct launch_spec *s, const struct sandbox_plan *plan, uint64_t flags,
                       int sync_read)
{
    if (flags & CLONE_NEWNS)
        hand_over_mount_ns();
    take_mapped_ids(s, plan, sync_read);
    if (setsid() < 0)
        fail(errno, "setsid", "");
    if (flags & CLONE_NEWNS)
        setup_root(s, flags);
}

/* Everything after the helper let the child go: the rest of the namespaces, stdio, identity,
 * root, and finally execve. With plan->root_ready, a prepared sandbox did enter_root already
 * (prepare_root). */
static _Noreturn void run_released(const struct launch_spec *s, const struct sandbox_plan *plan,
                                   const struct sandbox_fds *fds)
{
    const uint64_t flags = plan->clone_flags | plan->unshare_flags | plan->unshared_flags;
    trace_event(trace_launch_id, "released");

    /* The rest of the namespaces asked for (see launch_plan), created while the child still
     * has every capability in a new user namespace, whatever the maps say. Failures keep the
     * step name "clone": for the JVM they are the same failure (ENOSPC, EPERM, ...). */
    if (plan->unshare_flags && unshare((int)plan->unshare_flags) < 0)
        fail(errno, "clone", "");

    if (child_setup_stdio(fds->stdio) < 0)
        fail(errno, "set up stdio", "");
    if (fds->control >= 0)
        close(fds->control);

    if (!plan->root_ready)
        enter_root(s, plan, flags, fds->sync_read);

    if (s->hostname) {
        /* never rename the host: only in a UTS namespace of our own */
        if (!(flags & CLONE_NEWUTS))
            fail(EINVAL, "sethostname", s->hostname);
        if (sethostname(s->hostname, strlen(s->hostname)) < 0)
            fail(errno, "sethostname", s->hostname);
    }

    if (flags & CLONE_NEWNET)
        bring_up_lo();

    /* takes effect for the process at execve (time_for_children becomes its time ns) */
    if (s->unshare_time && unshare(CLONE_NEWTIME) < 0)
        fail(errno, "unshare time namespace", "");

    const char *cwd = s->cwd ? s->cwd : "/";
    if (chdir(cwd) < 0)
        fail(errno, "chdir", cwd);

    if (s->has_run_as)
        run_as(s, flags, fds->sync_read);

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(errno, "no_new_privs", "");
    if (guard_remounts() < 0)
        fail(errno, "seccomp filter (read-only mounts)", "");

    /* with an init (init.c): this process becomes it, a child goes on to run the command */
    if (s->init) {
        const char *step = "";
        if (init_start(fds->init_report, &step) < 0)
            fail(errno, step, "");
    }

    exec_command(s);
}

/* Reads one byte; false on EOF or error. */
static bool read_byte(int fd)
{
    char c;
    ssize_t n;
    do
        n = read(fd, &c, 1);
    while (n < 0 && errno == EINTR);
    return n == 1;
}

/* Moves this sandbox, a single thread, into the cgroups whose v1 `tasks` or v2 cgroup.procs
 * files the helper opened (one fd each; their paths, NUL-separated, name them in errors), so
 * that the helper does not wait on the move (launch.c, launch_open_tasks_files). */
static void join_cgroups_self(const char *paths, uint32_t paths_len, const int *tasks, int count)
{
    const char *path = paths, *end = paths + paths_len;
    for (int i = 0; i < count; i++) {
        if (path >= end)
            fail(EPROTO, "receive launch", "");
        if (write(tasks[i], "0", 1) != 1)
            fail(errno, "join cgroup", path);
        close(tasks[i]);
        path += strlen(path) + 1;
    }
    if (path != end)
        fail(EPROTO, "receive launch", "");
}

_Noreturn void sandbox_main(const struct launch_spec *s, const struct sandbox_plan *plan,
                            const struct sandbox_fds *fds)
{
    status_fd = fds->status_write;
    close(fds->status_read);
    close(fds->sync_write); /* else the sync read below could never see EOF */

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail(errno, "set parent death signal", "");
    child_reset_signals();

    /* wait until the helper has written the id maps (and moved us into any cgroup we do not move
     * ourselves into below); EOF: it gave up on us */
    if (!read_byte(fds->sync_read))
        _exit(1);
    if (fds->tasks)
        join_cgroups_self(fds->tasks->paths, fds->tasks->paths_len, fds->tasks->fds, fds->tasks->count);
    run_released(s, plan, fds);
}

/* ---- prepared sandboxes (prepared.c) ------------------------------------------------------ */

void close_fds_except(int a, int b)
{
    /* the fds kept, ascending: a, b and the trace file's (a again when not tracing) */
    int keep[3] = {a, b, trace_fd > 2 ? trace_fd : a};
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            if (keep[j] < keep[i]) {
                int t = keep[i];
                keep[i] = keep[j];
                keep[j] = t;
            }
    unsigned from = 3;
    for (int i = 0; i < 3; i++) {
        if (keep[i] < (int)from)
            continue; /* a repeat */
        if (keep[i] > (int)from && iso_close_range(from, (unsigned)keep[i] - 1, 0) < 0 && errno == ENOSYS)
            goto by_proc;
        from = (unsigned)keep[i] + 1;
    }
    if (iso_close_range(from, ~0u, 0) == 0 || errno != ENOSYS)
        return;
by_proc:
    /* kernels < 5.9: whatever /proc lists (the helper's fds are few) */
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    int own = dirfd(dir);
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd > 2 && fd != a && fd != b && fd != own && fd != trace_fd)
            close(fd);
    }
    closedir(dir);
}

/* Reads one message sent to a prepared sandbox: a header with the payload's length, its kind
 * and the fds, then the payload. False on EOF (the helper dropped it). */
static bool receive_message(int channel, struct prepared_header *header, uint8_t **payload,
                            int fds[PREPARED_FDS_MAX], int *nfds)
{
    ssize_t n = recv_with_fds(channel, header, sizeof *header, MSG_WAITALL, fds, PREPARED_FDS_MAX, nfds);
    if (n == 0)
        return false;
    if (n != (ssize_t)sizeof *header)
        fail(n < 0 ? errno : EIO, "receive launch", "");
    bool fds_fit = header->kind == PREPARED_LAUNCH ? header->fd_count >= 3
                   : header->kind == PREPARED_ROOT ? header->fd_count == 0 && header->tasks_len == 0
                   : header->kind == PREPARED_JOIN && header->length == 0 && header->fd_count >= 1 &&
                         header->fd_count <= TASKS_FILES_MAX;
    if (*nfds != (int)header->fd_count || !fds_fit || header->tasks_len > TASKS_PATHS_MAX)
        fail(EPROTO, "receive launch", "");
    /* the payload, then the tasks paths, NUL-terminated once more in case they were not */
    uint32_t total = header->length + header->tasks_len;
    if (!(*payload = malloc(total + 1)))
        fail(ENOMEM, "receive launch", "");
    (*payload)[total] = '\0';
    for (uint32_t got = 0; got < total;) {
        ssize_t r = read(channel, *payload + got, total - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            fail(r < 0 ? errno : EPIPE, "receive launch", "");
        got += (uint32_t)r;
    }
    return true;
}

/*
 * PREPARED_ROOT: builds the root of an earlier launch of this shape now, in a mount namespace
 * of its own, exactly as run_released would; then tells the helper which host paths it pinned,
 * so that the launch can check they are still the same (prepared.c). Any failure ends the
 * spare like a failed launch; the helper then just finds it gone.
 */
static void prepare_root(const struct launch_spec *s, struct sandbox_plan *plan, int channel)
{
    if (unshare(CLONE_NEWNS) < 0)
        fail(errno, "clone", "");
    plan->unshare_flags &= ~(uint64_t)CLONE_NEWNS;
    plan->unshared_flags |= CLONE_NEWNS;

    struct prepared_ready ready = {.id_count = 0};
    ahead = &ready;
    enter_root(s, plan, plan->clone_flags | plan->unshare_flags | plan->unshared_flags, channel);
    ahead = NULL;

    /* opened only now: the mounts above must not count as a change */
    int watch = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    if (watch < 0)
        fail(errno, "watch mounts", "/proc/self/mountinfo");
    size_t len = prepared_ready_size(ready.id_count);
    if (send_with_fds(channel, &ready, len, &watch, 1, 0) != (ssize_t)len)
        fail(errno, "report prepared root", "");
    close(watch);
    plan->root_ready = true;
}

_Noreturn void sandbox_prepared_main(const struct sandbox_plan *plan, int channel, int status_write)
{
    status_fd = status_write;
    /* a copy of whatever the helper had open when it made us: none of it is ours */
    close_fds_except(channel, status_write);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail(errno, "set parent death signal", "");
    child_reset_signals();
    /* named apart while idle, so that it is not taken for a sandbox; the helper's name again
     * once a launch takes it */
    char name[17] = "";
    prctl(PR_GET_NAME, name, 0, 0, 0);
    prctl(PR_SET_NAME, "isolation-spare", 0, 0, 0);

    /* maps written: make the namespaces that do not depend on the moment of the launch */
    if (!read_byte(channel))
        _exit(1);
    struct sandbox_plan rest = *plan;
    rest.unshared_flags = plan->unshare_flags & PREPARED_EARLY_FLAGS;
    rest.unshare_flags = plan->unshare_flags & ~PREPARED_EARLY_FLAGS;
    if (rest.unshared_flags && unshare((int)rest.unshared_flags) < 0)
        fail(errno, "clone", "");

    struct prepared_header header;
    uint8_t *payload;
    int received[PREPARED_FDS_MAX], count;
    struct launch_spec spec;
    const char *why;
    for (;;) {
        if (!receive_message(channel, &header, &payload, received, &count))
            _exit(0);
        if (header.kind == PREPARED_JOIN) {
            /* into the cgroup made ahead, to wait there for the launch that takes it */
            join_cgroups_self((const char *)payload, header.tasks_len, received, count);
            free(payload);
            /* inside: only now may the helper hand us the launch that takes this cgroup (a
             * failed move ends us above, and the helper sees EOF instead) */
            if (write_all(channel, &(char){PREPARED_JOINED}, 1) < 0)
                _exit(1);
            continue;
        }
        if (spec_parse(payload, header.length, &spec, &why) < 0)
            fail(EPROTO, "parse launch", why);
        if (header.kind == PREPARED_LAUNCH) {
            trace_launch_id = header.launch_id;
            break;
        }
        if (rest.root_ready || !(rest.unshare_flags & CLONE_NEWNS))
            fail(EPROTO, "parse launch", "a second root");
        prepare_root(&spec, &rest, channel);
        spec_free(&spec);
        free(payload);
    }
    int tasks_from = spec.init ? 4 : 3;
    if (count < tasks_from)
        fail(EPROTO, "receive launch", "");
    join_cgroups_self((const char *)payload + header.length, header.tasks_len, received + tasks_from,
                      count - tasks_from);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    struct sandbox_fds fds = {
        .sync_read = channel,
        .sync_write = -1,
        .status_write = status_write,
        .status_read = -1,
        .control = -1,
        .init_report = spec.init ? received[3] : -1,
        .stdio = {received[0], received[1], received[2]},
    };
    run_released(&spec, &rest, &fds);
}
