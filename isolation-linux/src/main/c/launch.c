/*
 * Helper side of one launch: clone the child, do what must be done from outside it (cgroup
 * membership, user namespace id maps), then let it go. The child waits on the sync pipe
 * until then, so it never runs unmapped or outside its cgroups.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int status_channel(int fds[2])
{
    /* datagrams keep a failure record whole and apart from a descriptor hand-over; the
     * child's end is close-on-exec, so a successful execve reads as end of file */
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

void close_fds(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

ssize_t send_with_fds(int socket, const void *buf, size_t len, const int *fds, int nfds, int flags)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * PASSED_FDS_MAX)];
        struct cmsghdr align;
    } control;
    if (nfds < 0 || nfds > PASSED_FDS_MAX) {
        errno = EINVAL;
        return -1;
    }
    memset(&control, 0, sizeof control);
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do
        n = sendmsg(socket, &msg, flags | MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

ssize_t send_fd(int socket, int fd, int flags)
{
    char byte = 0;
    return send_with_fds(socket, &byte, 1, &fd, 1, flags);
}

ssize_t recv_with_fds(int socket, void *buf, size_t len, int flags, int *fds, int max_fds, int *nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * PASSED_FDS_MAX)];
        struct cmsghdr align;
    } control;
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                         .msg_controllen = sizeof control.buf};
    *nfds = 0;
    ssize_t n;
    do
        n = recvmsg(socket, &msg, flags | MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return n;
    bool too_many = (msg.msg_flags & MSG_CTRUNC) != 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (*nfds < max_fds) {
                fds[(*nfds)++] = fd;
            } else {
                close(fd);
                too_many = true;
            }
        }
    }
    if (too_many) {
        for (int i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = 0;
        errno = EPROTO;
        return -1;
    }
    return n;
}

_Noreturn void child_fail(int status_fd, int err, const char *step, const char *path)
{
    struct exec_status st;
    memset(&st, 0, sizeof st);
    set_status(&st, err, step, path);
    write_all(status_fd, &st, sizeof st);
    _exit(127);
}

int set_status(struct exec_status *st, int err, const char *step, const char *path)
{
    st->err = err;
    snprintf(st->step, sizeof st->step, "%s", step);
    snprintf(st->path, sizeof st->path, "%s", path ? path : "");
    return -1;
}

/* Writes `content` to an existing file with a single write(): id maps must come in one. */
int write_whole_file(const char *path, const char *content)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = strlen(content);
    ssize_t n;
    do
        n = write(fd, content, len);
    while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return -1;
    }
    if ((size_t)n != len) {
        errno = EIO;
        return -1;
    }
    return 0;
}

void wait_for_child(pid_t pid, int *status)
{
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (status)
        *status = st;
}

int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Runs "PROG PID in out count [in out count...]" (newuidmap/newgidmap) and waits for it
 * explicitly, so the event loop's wait4(-1) never sees this pid. Exit != 0 => EPERM.
 */
static int run_idmap_tool(const char *prog, pid_t target, const char *map)
{
    char *copy = strdup(map);
    if (!copy)
        return -1;
    size_t max_tokens = strlen(map) / 2 + 1;
    char **argv = calloc(max_tokens + 3, sizeof *argv);
    if (!argv) {
        free(copy);
        return -1;
    }
    char pidbuf[16];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)target);
    size_t argc = 0;
    argv[argc++] = (char *)prog;
    argv[argc++] = pidbuf;
    for (char *save = NULL, *tok = strtok_r(copy, " \t\n", &save); tok;
         tok = strtok_r(NULL, " \t\n", &save))
        argv[argc++] = tok;
    argv[argc] = NULL;

    /* the tool must not inherit the helper's blocked SIGCHLD or ignored signals */
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    char *envp[] = {NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, prog, NULL, &attr, argv, envp);
    posix_spawnattr_destroy(&attr);
    free(argv);
    free(copy);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    int status;
    wait_for_child(pid, &status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

/*
 * Looks at an id map ("inside outside count" lines). Returns whether `outside` is mapped, and
 * sets *inside to the id the child should switch to otherwise: 0 when mapped, else the first
 * range's start. An unparsable map counts as mapping it: the kernel will reject it anyway.
 */
static bool map_covers(const char *map, uint32_t outside, uint32_t *inside)
{
    bool have_first = false, zero_mapped = false;
    uint32_t first = 0;
    const char *p = map;
    for (;;) {
        unsigned long in, out, count;
        int used;
        if (sscanf(p, " %lu %lu %lu%n", &in, &out, &count, &used) != 3)
            break;
        p += used;
        if (outside >= out && outside - out < count)
            return true;
        if (in == 0 && count > 0)
            zero_mapped = true;
        if (!have_first) {
            first = (uint32_t)in;
            have_first = true;
        }
    }
    if (!have_first)
        return true;
    *inside = zero_mapped ? 0 : first;
    return false;
}

/*
 * Moving a process by its pid (cgroup.procs, or `tasks` with a pid) takes the global
 * cgroup_threadgroup_rwsem for writing, which after a few idle milliseconds waits for a full
 * RCU grace period: 5-18 ms measured here (kernel 6.18), on a good share of the launches with
 * limits, and in the helper's event loop, where every other launch waited too. So the sandbox
 * moves itself, writing "0" (itself) to a file the helper opened. On cgroup v1 that is the
 * `tasks` file: on this kernel (6.18) a single thread moving itself skips that lock, and a
 * sandbox is one thread until it execs (where a kernel still takes it, the wait at least falls
 * on the launch that needs it); its own ids pass the check, the target being itself.
 * cgroup v2 allows moving a lone thread only within its domain, so there it is cgroup.procs,
 * which still takes the lock: the wait then falls on the launch that needs the cgroup, not on
 * the helper and every launch behind it. v2 checks the write against the credentials and
 * cgroup namespace of whoever opened the file (the helper) only since Linux 5.16; before, the
 * sandbox's own ids, which may be mapped to another user, would be checked, so there the
 * helper keeps writing the pid.
 */
static bool v2_checks_opener(void)
{
    static int answer = -1;
    if (answer < 0) {
        struct utsname u;
        int major = 0, minor = 0;
        answer = uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2 &&
                 (major > 5 || (major == 5 && minor >= 16));
    }
    return answer == 1;
}

void launch_open_tasks_files(const struct launch_spec *spec, bool birth_dir, struct tasks_files *out)
{
    out->mask = 0;
    out->count = 0;
    out->paths_len = 0;
    out->birth_dir = -1;
    out->birth_index = 0;
    for (size_t i = 0; i < spec->cgroup_count && i < 32 && out->count < TASKS_FILES_MAX; i++) {
        const char *procs = spec->cgroup_procs[i];
        const char *slash = strrchr(procs, '/');
        if (!slash || strcmp(slash, "/cgroup.procs") != 0)
            continue;
        char *path = out->paths + out->paths_len;
        size_t room = sizeof out->paths - out->paths_len;
        int n = snprintf(path, room, "%.*s/tasks", (int)(slash - procs), procs);
        if (n < 0 || (size_t)n >= room)
            continue;
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && birth_dir && out->birth_dir < 0) {
            /* cgroup v2: born there (clone3's CLONE_INTO_CGROUP, Linux 5.7), moved by nobody */
            path[slash - procs] = '\0';
            if ((out->birth_dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
                out->birth_index = i;
                continue;
            }
        } else if (fd < 0 && errno == ENOENT && v2_checks_opener()) { /* cgroup v2 */
            n = snprintf(path, room, "%s", procs);
            if (n < 0 || (size_t)n >= room)
                continue;
            fd = open(path, O_WRONLY | O_CLOEXEC);
        }
        if (fd < 0)
            continue; /* the helper's write by pid reports what is wrong */
        out->fds[out->count++] = fd;
        out->mask |= 1u << i;
        out->paths_len += (uint32_t)n + 1;
    }
}

void launch_close_tasks_files(struct tasks_files *tasks)
{
    close_fds(tasks->fds, tasks->count);
    tasks->count = 0;
    if (tasks->birth_dir >= 0)
        close(tasks->birth_dir);
    tasks->birth_dir = -1;
}

int launch_join_cgroups(const struct launch_spec *spec, pid_t pid, uint32_t skip_mask,
                        struct exec_status *failure)
{
    char pidbuf[24];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
    for (size_t i = 0; i < spec->cgroup_count; i++)
        if (!cgroup_in_mask(skip_mask, i) && write_whole_file(spec->cgroup_procs[i], pidbuf) < 0)
            return set_status(failure, errno, "join cgroup", spec->cgroup_procs[i]);
    return 0;
}

/* One of a child's id maps ("uid" or "gid"): with the setuid tool when there is one, else
 * written directly. */
static int write_id_map(pid_t pid, const char *kind, const char *map, const char *tool,
                        struct exec_status *failure)
{
    if (!map)
        return 0;
    char step[32];
    if (tool) {
        snprintf(step, sizeof step, "new%smap", kind);
        if (run_idmap_tool(tool, pid, map) < 0)
            return set_status(failure, errno, step, tool);
        return 0;
    }
    char path[64]; /* "/proc/PID/uid_map" */
    snprintf(path, sizeof path, "/proc/%d/%s_map", (int)pid, kind);
    snprintf(step, sizeof step, "write %s_map", kind);
    if (write_whole_file(path, map) < 0)
        return set_status(failure, errno, step, path);
    return 0;
}

int launch_write_maps(const struct launch_spec *spec, pid_t pid, struct exec_status *failure)
{
    if (spec->setgroups_deny) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
        if (write_whole_file(path, "deny") < 0)
            return set_status(failure, errno, "write setgroups", path);
    }
    if (write_id_map(pid, "uid", spec->uid_map, spec->newuidmap, failure) < 0)
        return -1;
    return write_id_map(pid, "gid", spec->gid_map, spec->newgidmap, failure);
}

void launch_plan(const struct launch_spec *spec, struct sandbox_plan *plan)
{
    /* Only the namespaces that must exist from the start go to clone(): the user namespace
     * (its maps are written from here) and the pid namespace (the child must be its pid 1).
     * The child unshares the others once released. Creating a network namespace alone takes
     * about 0.4 ms of kernel time, which would otherwise be spent in this single thread while
     * every other launch waits; and a cgroup namespace made after the cgroups were joined is
     * rooted at the sandbox's own cgroup rather than at the helper's. */
    const uint64_t at_clone = (uint64_t)(CLONE_NEWUSER | CLONE_NEWPID);
    memset(plan, 0, sizeof *plan);
    plan->clone_flags = spec->clone_flags & at_clone;
    plan->unshare_flags = spec->clone_flags & ~at_clone;
    if (plan->clone_flags & CLONE_NEWUSER) {
        if (spec->uid_map)
            plan->switch_uid = !map_covers(spec->uid_map, (uint32_t)geteuid(), &plan->uid);
        if (spec->gid_map)
            plan->switch_gid = !map_covers(spec->gid_map, (uint32_t)getegid(), &plan->gid);
    }
}

/* clone3 into the cgroup `cgroup_fd`, fork-like like the raw clone below; -1 with errno
 * (ENOSYS or E2BIG before Linux 5.7, or whatever the cgroup refuses). */
static long clone_into(uint64_t flags, int cgroup_fd)
{
    struct iso_clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags | ISO_CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = (uint64_t)cgroup_fd;
    return syscall(SYS_clone3, &args, sizeof args);
}

int launch_start(const struct launch_spec *spec, const int stdio[3], int control_fd,
                 struct launch_started *started, struct exec_status *failure)
{
    int sync[2], status[2];
    if (pipe2(sync, O_CLOEXEC) < 0)
        return set_status(failure, errno, "create pipe", "");
    if (status_channel(status) < 0) {
        set_status(failure, errno, "create status socket", "");
        close(sync[0]);
        close(sync[1]);
        return -1;
    }

    struct sandbox_plan plan;
    launch_plan(spec, &plan);

    /* with an init: the pipe on which it reports the command's wait status (init.c) */
    int report[2] = {-1, -1};
    if (spec->init && pipe2(report, O_CLOEXEC) < 0) {
        set_status(failure, errno, "create pipe", "");
        close(sync[0]);
        close(sync[1]);
        close(status[0]);
        close(status[1]);
        return -1;
    }

    /* On cgroup v2 the child is born in its cgroup where the kernel allows (clone_into); it
     * moves itself into the others once released, and the helper does any rest below. */
    struct tasks_files tasks;
    launch_open_tasks_files(spec, true, &tasks);

    long pid = -1;
    uint32_t joined = tasks.mask; /* the cgroups the helper need not move the child into */
    if (tasks.birth_dir >= 0 && (pid = clone_into(plan.clone_flags, tasks.birth_dir)) >= 0)
        joined |= 1u << tasks.birth_index;
    /* else no cgroup v2, or a kernel without CLONE_INTO_CGROUP: the helper moves it there;
     * a fork-like raw clone: no stack, copy-on-write (glibc's clone() wrapper wants a stack) */
    if (pid < 0)
        pid = syscall(SYS_clone, (unsigned long)plan.clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        struct sandbox_fds fds = {
            .sync_read = sync[0],
            .sync_write = sync[1],
            .status_write = status[1],
            .status_read = status[0],
            .control = control_fd,
            .init_report = report[1],
            .stdio = {stdio[0], stdio[1], stdio[2]},
            .tasks = &tasks,
        };
        sandbox_main(spec, &plan, &fds);
    }
    int clone_errno = errno;
    launch_close_tasks_files(&tasks);
    close(sync[0]);
    close(status[1]);
    if (report[1] >= 0)
        close(report[1]);
    if (pid < 0) {
        close(sync[1]);
        close(status[0]);
        if (report[0] >= 0)
            close(report[0]);
        return set_status(failure, clone_errno, "clone", "");
    }

    if (launch_join_cgroups(spec, (pid_t)pid, joined, failure) < 0)
        goto kill_child;
    if (launch_write_maps(spec, (pid_t)pid, failure) < 0)
        goto kill_child;

    /* release the child; EPIPE here means it already died (SIGPIPE is ignored) */
    trace_event(trace_launch_id, "direct");
    if (write_all(sync[1], "g", 1) < 0) {
        set_status(failure, errno, "release sandbox", "");
        goto kill_child;
    }
    /* the status socket is polled by the event loop: never block on it */
    if (fcntl(status[0], F_SETFL, O_NONBLOCK) < 0) {
        set_status(failure, errno, "set status socket non-blocking", "");
        goto kill_child;
    }
    started->pid = (pid_t)pid;
    started->status_fd = status[0];
    started->sync_fd = sync[1];
    started->init_fd = report[0];
    return 0;

kill_child:
    kill((pid_t)pid, SIGKILL);
    wait_for_child((pid_t)pid, NULL);
    close(sync[1]);
    close(status[0]);
    if (report[0] >= 0)
        close(report[0]);
    return -1;
}
