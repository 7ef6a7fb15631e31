/*
 * ISO_MSG_JOIN: run another command inside a running sandbox, or in the namespaces of any
 * process (nsenter --target). Three processes take part:
 *
 *   helper     parses the request, clones the joiner J, waits (briefly) for J's answer, then
 *              treats the command like a launch: STARTED when execve succeeded (or FAILED
 *              with the step), EXITED when reaped.
 *   joiner J   a plain fork of the helper. Pins the target (pidfd_open, then /proc/PID opened
 *              as a directory, which the kernel ties to that very process), opens its root,
 *              joins its cgroups, enters its namespaces, then clones the command C with
 *              CLONE_PARENT, reports C's pid and exits.
 *   command C  the helper's own child from birth (CLONE_PARENT), created after J entered the
 *              namespaces: setns(CLONE_NEWPID) and setns(CLONE_NEWTIME) only affect children,
 *              so this second process is what makes the command part of the target's PID
 *              (and time) namespace. Waits for the helper's go, enters the target's root,
 *              takes its identity, and executes the command.
 *
 * Why CLONE_PARENT rather than a subreaper: C is the helper's child from the first instant, so
 * the helper's ordinary wait4 sees it, with its exit status, without relying on reparenting
 * when J exits, and J's pid-of-C message is the only coordination needed. (The helper is a
 * subreaper all the same, for orphans of sandboxes; see stop.c.)
 *
 * Namespaces are entered with setns(pidfd, mask) where the kernel allows it (5.8+): all at
 * once, the kernel entering the user namespace first and checking the others with the new
 * credentials. Older kernels (EINVAL) and refusals (EPERM) fall back to the /proc/PID/ns
 * files, in two passes: every namespace but the user namespace, then the user namespace, then
 * what failed in the first pass. So a privileged caller enters the user namespace last (it
 * would lose its rights over the others first), and an unprivileged one enters it first (it
 * has rights over the others only from inside).
 *
 * Protection from the sandbox (the classes of runc's CVE-2016-9962 and CVE-2019-5736): J and C
 * are not dumpable (PR_SET_DUMPABLE 0) from before they touch the target until C's execve.
 * Their memory belongs to the helper's user namespace, so nothing inside the sandbox can
 * ptrace them or open their /proc/PID/{mem,fd,root,exe,...}: that needs CAP_SYS_PTRACE in the
 * helper's user namespace. Their executable is the helper's image, a memfd sealed against
 * writing (F_SEAL_WRITE, and being executed denies write access too): /proc/PID/exe cannot be
 * opened for writing by anyone, and there is no file on disk to replace. Descriptors of the
 * helper that C holds until its execve are all close-on-exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#define JOINABLE_FLAGS                                                                       \
    ((uint64_t)(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS |  \
                CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWTIME))

#define TARGETS_ID UINT32_MAX /* RUN_AS value in a JOIN: "the target's" */
#define LONG_PATH 4200

/* ---- parsing ------------------------------------------------------------------------------ */

/* One pass over the TLVs: with out == NULL validate and count, else fill *out from *chars. */
static int walk(const uint8_t *buf, size_t len, size_t *nargs, size_t *nenvs, size_t *nchars,
                struct join_spec *out, char **chars, const char **why)
{
    size_t args = 0, envs = 0, total = 0;
    bool seen_cwd = false, seen_run_as = false, seen_launch = false, seen_pid = false, seen_ns = false;
    for (size_t off = 0; off < len;) {
        struct iso_tlv_header h;
        if (len - off < sizeof h) {
            *why = "truncated TLV header";
            return -1;
        }
        memcpy(&h, buf + off, sizeof h);
        off += sizeof h;
        if (h.length > len - off) {
            *why = "TLV length exceeds the payload";
            return -1;
        }
        const uint8_t *v = buf + off;
        uint32_t n = h.length;
        off += n;
        bool *seen = NULL;
        switch (h.tag) {
        case ISO_TLV_ARG:
        case ISO_TLV_ENV:
        case ISO_TLV_CWD:
            if (memchr(v, 0, n)) {
                *why = "string TLV contains a NUL byte";
                return -1;
            }
            if (h.tag == ISO_TLV_CWD)
                seen = &seen_cwd;
            total += (size_t)n + 1;
            if (out) {
                char *s = *chars;
                memcpy(s, v, n);
                s[n] = '\0';
                *chars += (size_t)n + 1;
                if (h.tag == ISO_TLV_ARG)
                    out->argv[args] = s;
                else if (h.tag == ISO_TLV_ENV)
                    out->envp[envs] = s;
                else
                    out->cwd = s;
            }
            if (h.tag == ISO_TLV_ARG)
                args++;
            else if (h.tag == ISO_TLV_ENV)
                envs++;
            break;
        case ISO_TLV_RUN_AS:
            seen = &seen_run_as;
            if (n != 8) {
                *why = "RUN_AS must be 8 bytes";
                return -1;
            }
            if (out) {
                out->has_run_as = true;
                out->run_uid = wire_get32(v);
                out->run_gid = wire_get32(v + 4);
            }
            break;
        case ISO_TLV_JOIN_LAUNCH:
            seen = &seen_launch;
            if (n != 8) {
                *why = "JOIN_LAUNCH must be 8 bytes";
                return -1;
            }
            if (out) {
                out->by_launch = true;
                out->launch_id = wire_get64(v);
            }
            break;
        case ISO_TLV_JOIN_PID:
            seen = &seen_pid;
            if (n != 4 || (int32_t)wire_get32(v) <= 0) {
                *why = "JOIN_PID must be a positive int32";
                return -1;
            }
            if (out) {
                out->by_pid = true;
                out->pid = (pid_t)(int32_t)wire_get32(v);
            }
            break;
        case ISO_TLV_JOIN_NAMESPACES:
            seen = &seen_ns;
            if (n != 8 || (wire_get64(v) & ~JOINABLE_FLAGS)) {
                *why = "JOIN_NAMESPACES must be 8 bytes of CLONE_NEW* flags";
                return -1;
            }
            if (out) {
                out->has_namespaces = true;
                out->namespaces = wire_get64(v);
            }
            break;
        default:
            *why = "unknown TLV tag in JOIN";
            return -1;
        }
        if (seen) {
            if (*seen) {
                *why = "repeated single-valued TLV";
                return -1;
            }
            *seen = true;
        }
    }
    if (args == 0) {
        *why = "JOIN without ARG";
        return -1;
    }
    if (seen_launch == seen_pid) {
        *why = "JOIN needs exactly one of JOIN_LAUNCH and JOIN_PID";
        return -1;
    }
    *nargs = args;
    *nenvs = envs;
    *nchars = total;
    return 0;
}

int join_parse(const uint8_t *payload, size_t len, struct join_spec *out, const char **why)
{
    memset(out, 0, sizeof *out);
    size_t nargs, nenvs, nchars;
    if (walk(payload, len, &nargs, &nenvs, &nchars, NULL, NULL, why) < 0)
        return -1;
    char *arena = malloc((nargs + 1 + nenvs + 1) * sizeof(char *) + nchars);
    if (!arena) {
        *why = "out of memory";
        return -1;
    }
    out->arena = arena;
    out->argv = (char **)(void *)arena;
    out->argc = nargs;
    out->envp = out->argv + nargs + 1;
    out->argv[nargs] = NULL;
    out->envp[nenvs] = NULL;
    char *chars = (char *)(out->envp + nenvs + 1);
    return walk(payload, len, &nargs, &nenvs, &nchars, out, &chars, why);
}

void join_free(struct join_spec *spec)
{
    free(spec->arena);
    spec->arena = NULL;
}

/* ---- the joiner and the command ------------------------------------------------------------ */

static const struct {
    const char *name;
    uint64_t flag;
} namespaces[] = {
    /* the order of the fallback's passes (user is taken out of the first) */
    {"user", CLONE_NEWUSER}, {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS},
    {"net", CLONE_NEWNET},   {"pid", CLONE_NEWPID},       {"time", CLONE_NEWTIME}, {"mnt", CLONE_NEWNS},
};
#define NAMESPACE_COUNT (sizeof namespaces / sizeof namespaces[0])

struct join_fds {
    int sync_read, sync_write;
    int status_read, status_write;
    int report_read, report_write; /* J -> helper: the command's pid */
    int control;
    int stdio[3];
};

static int status_fd = -1;
static char target_proc[32]; /* "/proc/PID" */

static _Noreturn void fail(int err, const char *step, const char *path)
{
    child_fail(status_fd, err, step, path);
}

static _Noreturn void fail_at(int err, const char *step, const char *relative)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", target_proc, relative);
    fail(err, step, path);
}

/* Re-arms PDEATHSIG (cleared by credential changes) and makes sure the helper still holds the
 * sync pipe, i.e. did not die before it was armed. */
static void arm_pdeathsig(int sync_read)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        fail(errno, "set parent death signal", "");
    struct pollfd p = {.fd = sync_read, .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
        _exit(1);
}

static int join_cgroup(const char *dir, const char *controllers, void *arg)
{
    (void)controllers;
    (void)arg;
    char path[LONG_PATH];
    if ((size_t)snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return write_whole_file(path, "0"); /* 0: the writing process */
}

static void enter_namespaces(int pidfd, int procdir, uint64_t mask)
{
    if (mask == 0)
        return;
    if (pidfd >= 0) {
#ifndef ISOLATION_NO_PIDFD_SETNS /* for testing the fallback */
        if (setns(pidfd, (int)mask) == 0)
            return;
        if (errno != EINVAL && errno != EPERM)
            fail(errno, "setns", target_proc);
#endif
    }
    int fds[NAMESPACE_COUNT];
    for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
        fds[i] = -1;
        if (!(mask & namespaces[i].flag))
            continue;
        char rel[32];
        snprintf(rel, sizeof rel, "ns/%s", namespaces[i].name);
        if ((fds[i] = openat(procdir, rel, O_RDONLY | O_CLOEXEC)) < 0)
            fail_at(errno, "open namespace", rel);
    }
    /* first pass: all but the user namespace; a failure may succeed from inside it */
    for (size_t i = 1; i < NAMESPACE_COUNT; i++) {
        if (fds[i] >= 0 && setns(fds[i], (int)namespaces[i].flag) == 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
    for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
        if (fds[i] < 0)
            continue;
        if (setns(fds[i], (int)namespaces[i].flag) < 0) {
            char what[32];
            snprintf(what, sizeof what, "setns %s", namespaces[i].name);
            fail_at(errno, what, "ns");
        }
        close(fds[i]);
    }
}

/* "Uid:\tR\tE\tS\tF" -> E; from a status text */
static bool status_id(const char *status, const char *key, uint32_t *id)
{
    const char *line = strstr(status, key);
    unsigned long real, effective;
    if (!line || sscanf(line + strlen(key), " %lu %lu", &real, &effective) != 2)
        return false;
    *id = (uint32_t)effective;
    return true;
}

/* execve, searching the command's own PATH when the name has no '/'. */
static _Noreturn void exec_command(char *const argv[], char *const envp[])
{
    const char *cmd = argv[0];
    if (cmd[0] == '\0')
        fail(ENOENT, "execve", cmd);
    if (strchr(cmd, '/')) {
        execve(cmd, argv, envp);
        fail(errno, "execve", cmd);
    }
    const char *search = "/usr/local/bin:/usr/bin:/bin";
    for (char *const *e = envp; *e; e++)
        if (strncmp(*e, "PATH=", 5) == 0)
            search = *e + 5;
    int err = ENOENT;
    char denied[LONG_PATH] = "";
    char candidate[LONG_PATH];
    for (const char *p = search;;) {
        const char *end = strchrnul(p, ':');
        size_t dirlen = (size_t)(end - p);
        const char *dir = dirlen ? p : ".";
        if (!dirlen)
            dirlen = 1;
        if ((size_t)snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dirlen, dir, cmd) <
            sizeof candidate) {
            execve(candidate, argv, envp);
            if (errno == EACCES) {
                err = EACCES;
                if (!denied[0])
                    snprintf(denied, sizeof denied, "%s", candidate);
            } else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENODEV &&
                       errno != ETIMEDOUT) {
                fail(errno, "execve", candidate);
            }
        }
        if (*end == '\0')
            break;
        p = end + 1;
    }
    fail(err, "execve", err == EACCES ? denied : cmd);
}

/* C: the command, the helper's child, already in the target's namespaces. */
static _Noreturn void command_main(const struct join_spec *s, const struct join_fds *fds,
                                   int procdir, int rootfd)
{
    close(fds->report_write);
    arm_pdeathsig(fds->sync_read);

    /* wait until the helper knows our pid; EOF: it gave up on us */
    char go;
    ssize_t n;
    do
        n = read(fds->sync_read, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(1);

    if (rootfd >= 0) {
        if (fchdir(rootfd) < 0 || chroot(".") < 0)
            fail_at(errno, "chroot", "root");
        close(rootfd);
    }
    if (setsid() < 0)
        fail(errno, "setsid", "");
    const char *cwd = s->cwd ? s->cwd : "/";
    if (chdir(cwd) < 0)
        fail(errno, "chdir", cwd);

    /* The target's ids, read now that we are in its user namespace: /proc translates them
     * into the namespace of whoever opens the file. */
    uint32_t uid = s->has_run_as ? s->run_uid : TARGETS_ID;
    uint32_t gid = s->has_run_as ? s->run_gid : TARGETS_ID;
    if (uid == TARGETS_ID || gid == TARGETS_ID) {
        char *status = lifecycle_read_at(procdir, "status");
        if (!status)
            fail_at(errno, "read target ids", "status");
        bool ok = (uid != TARGETS_ID || status_id(status, "Uid:", &uid)) &&
                  (gid != TARGETS_ID || status_id(status, "Gid:", &gid));
        free(status);
        if (!ok)
            fail_at(EINVAL, "read target ids", "status");
    }
    close(procdir);
    /* supplementary groups: none, where the namespace allows setgroups at all */
    if (syscall(SYS_setgroups, 0, NULL) < 0 && errno != EPERM)
        fail(errno, "setgroups", "");
    if (syscall(SYS_setresgid, gid, gid, gid) < 0)
        fail(errno, "setresgid", "");
    if (syscall(SYS_setresuid, uid, uid, uid) < 0)
        fail(errno, "setresuid", "");
    /* credential changes reset both: non-dumpable until execve, killed with the helper */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    arm_pdeathsig(fds->sync_read);

    if (child_setup_stdio(fds->stdio) < 0)
        fail(errno, "set up stdio", "");
    child_reset_signals();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        fail(errno, "no_new_privs", "");
    if (guard_remounts() < 0)
        fail(errno, "seccomp filter (read-only mounts)", "");
    iso_close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
    exec_command(s->argv, s->envp);
}

/* J: pin the target, join its cgroups and namespaces, start the command, report its pid. */
static _Noreturn void joiner_main(const struct join_spec *s, pid_t target, const struct join_fds *fds)
{
    status_fd = fds->status_write;
    close(fds->status_read);
    close(fds->sync_write);
    close(fds->report_read);
    close(fds->control);
    arm_pdeathsig(fds->sync_read);
    /* before anything of the target is touched: from here until execve, nothing in the
     * sandbox may ptrace us or reach our memory and descriptors through /proc */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        fail(errno, "set non-dumpable", "");

    snprintf(target_proc, sizeof target_proc, "/proc/%d", (int)target);
    int pidfd = iso_pidfd_open(target);
    if (pidfd < 0 && errno != ENOSYS)
        fail(errno, "find target", target_proc);
    int procdir = open(target_proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (procdir < 0)
        fail(errno == ENOENT ? ESRCH : errno, "find target", target_proc);
    if (pidfd >= 0) {
        /* the directory belongs to the pinned process if that was still running after it was
         * opened: a /proc/PID directory stays tied to its process, never to a reused pid */
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        if (poll(&p, 1, 0) != 0)
            fail(ESRCH, "find target", target_proc);
    }

    /* the namespaces to enter: those asked for (default: all) that differ from ours */
    uint64_t mask = 0;
    for (size_t i = 0; i < NAMESPACE_COUNT; i++) {
        bool asked = s->has_namespaces && (s->namespaces & namespaces[i].flag);
        if (s->has_namespaces && !asked)
            continue;
        char rel[32], ours[48];
        snprintf(rel, sizeof rel, "ns/%s", namespaces[i].name);
        snprintf(ours, sizeof ours, "/proc/self/ns/%s", namespaces[i].name);
        struct stat theirs_st, ours_st;
        if (fstatat(procdir, rel, &theirs_st, 0) < 0) {
            if (!asked && errno == ENOENT)
                continue; /* a namespace type this kernel lacks */
            fail_at(errno, "open namespace", rel);
        }
        if (stat(ours, &ours_st) == 0 && ours_st.st_ino == theirs_st.st_ino && ours_st.st_dev == theirs_st.st_dev)
            continue;
        mask |= namespaces[i].flag;
    }

    /* its root, entered with its mount namespace */
    int rootfd = -1;
    if ((mask & CLONE_NEWNS) && (rootfd = openat(procdir, "root", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        fail_at(errno, "open root", "root");

    /* its cgroups, where they differ from ours; from the host's view, before any setns */
    char errpath[LONG_PATH];
    if (lifecycle_foreign_cgroups(procdir, join_cgroup, NULL, errpath, sizeof errpath) < 0)
        fail(errno, "join cgroup", errpath);

    enter_namespaces(pidfd, procdir, mask);
    if (pidfd >= 0)
        close(pidfd);

    /* the command: our parent's child, in the PID namespace we entered */
    long pid = syscall(SYS_clone, (unsigned long)CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0)
        command_main(s, fds, procdir, rootfd);
    if (pid < 0)
        fail(errno, "fork", (mask & CLONE_NEWPID) ? "into the PID namespace" : "");
    int32_t report = (int32_t)pid;
    write_all(fds->report_write, &report, sizeof report);
    _exit(0);
}

/* ---- the helper's side ---------------------------------------------------------------------- */

int join_start(const struct join_spec *spec, pid_t target, const int stdio[3], int control_fd,
               struct launch_started *started, struct exec_status *failure)
{
    int sync[2], status[2], report[2];
    if (pipe2(sync, O_CLOEXEC) < 0)
        return set_status(failure, errno, "create pipe", "");
    if (status_channel(status) < 0) {
        set_status(failure, errno, "create status socket", "");
        goto close_sync;
    }
    if (pipe2(report, O_CLOEXEC) < 0) {
        set_status(failure, errno, "create pipe", "");
        goto close_status;
    }
    struct join_fds fds = {
        .sync_read = sync[0], .sync_write = sync[1],
        .status_read = status[0], .status_write = status[1],
        .report_read = report[0], .report_write = report[1],
        .control = control_fd,
        .stdio = {stdio[0], stdio[1], stdio[2]},
    };
    long joiner = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
    if (joiner == 0)
        joiner_main(spec, target, &fds);
    int clone_errno = errno;
    close(sync[0]);
    close(status[1]);
    close(report[1]);
    if (joiner < 0) {
        set_status(failure, clone_errno, "fork", "");
        close(report[0]);
        goto close_ends;
    }

    /* J works without blocking on anything: only set-up syscalls stand between its start and
     * its report (the command's pid) or its failure record */
    int32_t pid = 0;
    size_t got = 0;
    while (got < sizeof pid) {
        ssize_t n = read(report[0], (char *)&pid + got, sizeof pid - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(report[0]);
    wait_for_child((pid_t)joiner, NULL);
    if (got != sizeof pid) {
        /* J failed (nothing else holds the status pipe now, so this read ends) */
        size_t have = 0;
        while (have < sizeof *failure) {
            ssize_t n = read(status[0], (char *)failure + have, sizeof *failure - have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            have += (size_t)n;
        }
        if (have != sizeof *failure)
            set_status(failure, EIO, "join", "");
        goto close_ends;
    }

    /* the command is our child now; let it go */
    if (write_all(sync[1], "g", 1) < 0 || fcntl(status[0], F_SETFL, O_NONBLOCK) < 0) {
        set_status(failure, errno, "release joined process", "");
        kill(pid, SIGKILL);
        wait_for_child(pid, NULL);
        goto close_ends;
    }
    started->pid = pid;
    started->status_fd = status[0];
    started->sync_fd = sync[1];
    started->init_fd = -1;
    return 0;

close_ends:
    close(sync[1]);
    close(status[0]);
    return -1;
close_status:
    close(status[0]);
    close(status[1]);
close_sync:
    close(sync[0]);
    close(sync[1]);
    return -1;
}
