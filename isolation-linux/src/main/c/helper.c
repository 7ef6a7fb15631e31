/*
 * isolation-helper: the JVM's single-threaded process launcher.
 *
 * The JVM spawns one helper and talks to it over the unix socket on fd 3 (protocol.h). The
 * helper clones sandboxes on request, reports when their execve succeeded or which step
 * failed, and reports their exit. One poll() loop watches the control socket, a signalfd for
 * SIGCHLD and the exec-status pipe of every launch whose execve is still pending, so a slow
 * set-up in one sandbox never holds up another.
 *
 * When the control socket closes, every sandbox is killed and reaped and the helper exits.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#define CONTROL_FD 3

const int helper_ignored_signals[] = {SIGINT, SIGQUIT, SIGHUP, SIGPIPE, SIGTSTP, SIGTTOU, SIGTTIN};
const size_t helper_ignored_signal_count =
    sizeof helper_ignored_signals / sizeof helper_ignored_signals[0];

/* A launch from a successful clone until its main process is reaped (or it failed). */
struct launch {
    uint64_t id;
    pid_t pid;
    /* exec pending while status_fd >= 0; then `status` collects a possible failure record */
    int status_fd;
    int sync_fd;
    size_t status_len;
    struct exec_status *status;
    struct sandbox_cgroup *cgroup; /* resource limits; NULL: none */
    unsigned flags; /* LAUNCH_PID_NS, LAUNCH_JOINED (stop.c) */
    int init_fd;    /* with an init: its report pipe (init.c); else -1 */
    bool own_mount_ns; /* it has a mount namespace of its own... */
    int mount_ns_fd;   /* ...held from its making until its exit was reported (teardown.c) */
};

static struct launch **launches;
static size_t launch_count, launch_capacity;
static int signal_fd = -1;

static _Noreturn void shut_down(int exit_code);

/* ---- frames to the JVM ------------------------------------------------------------------ */

/* Sends one whole frame (blocking). A dead socket means the JVM is gone: shut down. */
static void send_frame(uint16_t type, uint64_t id, const void *payload, uint32_t len)
{
    struct iso_frame_header h = {.length = len, .type = type, .fd_count = 0, .id = id};
    struct iovec iov[2] = {{&h, sizeof h}, {(void *)payload, len}};
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
    while (msg.msg_iovlen > 0) {
        ssize_t n = sendmsg(CONTROL_FD, &msg, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            shut_down(0);
        }
        /* partial send (only after a signal): advance over what went out */
        while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov[0].iov_len) {
            n -= (ssize_t)msg.msg_iov[0].iov_len;
            msg.msg_iov++;
            msg.msg_iovlen--;
        }
        if (msg.msg_iovlen > 0) {
            msg.msg_iov[0].iov_base = (char *)msg.msg_iov[0].iov_base + n;
            msg.msg_iov[0].iov_len -= (size_t)n;
        }
    }
}

static void send_failed(uint64_t id, const struct exec_status *st)
{
    char buf[sizeof(int32_t) + sizeof st->step + sizeof st->path];
    size_t steplen = strnlen(st->step, sizeof st->step - 1);
    size_t pathlen = strnlen(st->path, sizeof st->path - 1);
    int32_t err = st->err;
    memcpy(buf, &err, sizeof err);
    memcpy(buf + sizeof err, st->step, steplen);
    buf[sizeof err + steplen] = '\0';
    memcpy(buf + sizeof err + steplen + 1, st->path, pathlen);
    buf[sizeof err + steplen + 1 + pathlen] = '\0';
    send_frame(ISO_MSG_FAILED, id, buf, (uint32_t)(sizeof err + steplen + 1 + pathlen + 1));
}

static void send_started(uint64_t id, pid_t pid, const struct sandbox_cgroup *cg)
{
    /* traced before the frame: its reader may run at once, ahead of the helper */
    trace_event(id, "started");
    /* int32 pid, then the memory and cpu cgroup directories, NUL-terminated ("" if none) */
    const char *memory = cgroup_memory_dir(cg), *cpu = cgroup_cpu_dir(cg);
    size_t mlen = strlen(memory) + 1, clen = strlen(cpu) + 1;
    char *buf = malloc(sizeof(int32_t) + mlen + clen);
    int32_t p = pid;
    if (!buf) { /* cannot happen with paths this short; the pid alone is still valid */
        send_frame(ISO_MSG_STARTED, id, &p, sizeof p);
        return;
    }
    memcpy(buf, &p, sizeof p);
    memcpy(buf + sizeof p, memory, mlen);
    memcpy(buf + sizeof p + mlen, cpu, clen);
    send_frame(ISO_MSG_STARTED, id, buf, (uint32_t)(sizeof p + mlen + clen));
    free(buf);
}

static _Noreturn void protocol_error(uint64_t id, const char *text)
{
    send_frame(ISO_MSG_PROTOCOL_ERROR, id, text, (uint32_t)strlen(text));
    shut_down(2);
}

/* ---- the launch table ------------------------------------------------------------------- */

static struct launch *find_by_id(uint64_t id)
{
    for (size_t i = 0; i < launch_count; i++)
        if (launches[i]->id == id)
            return launches[i];
    return NULL;
}

static struct launch *find_by_pid(pid_t pid)
{
    for (size_t i = 0; i < launch_count; i++)
        if (launches[i]->pid == pid)
            return launches[i];
    return NULL;
}

/* Leaves the exec-pending state: the status pipe and sync pipe are no longer needed. */
static void end_pending(struct launch *l)
{
    if (l->status_fd >= 0) {
        close(l->status_fd);
        close(l->sync_fd);
        l->status_fd = l->sync_fd = -1;
    }
    free(l->status);
    l->status = NULL;
}

/* Kills what is left of a launch's cgroup and removes it (before FAILED, or at the end). */
static void release_cgroup(struct launch *l)
{
    cgroup_destroy(l->cgroup);
    l->cgroup = NULL;
}

static void forget(struct launch *l)
{
    end_pending(l);
    release_cgroup(l);
    if (l->init_fd >= 0)
        close(l->init_fd);
    teardown_release(l->mount_ns_fd);
    for (size_t i = 0; i < launch_count; i++) {
        if (launches[i] == l) {
            launches[i] = launches[--launch_count];
            break;
        }
    }
    free(l);
}

static _Noreturn void shut_down(int exit_code)
{
    for (size_t i = 0; i < launch_count; i++) {
        lifecycle_signal_all(launches[i]->id, launches[i]->pid, launches[i]->flags, SIGKILL);
        cgroup_signal_all(launches[i]->cgroup, SIGKILL);
    }
    /* Reap with waitpid(-1) only: a dying PID 1 waits until every member of its namespace is
     * reaped, and a joined process in it is our child, not its; waiting for the PID 1 alone
     * would deadlock. This also kills the orphans adopted as subreaper (stop.c). */
    lifecycle_kill_everything();
    for (size_t i = 0; i < launch_count; i++)
        release_cgroup(launches[i]);
    cgroup_shutdown();
    _exit(exit_code);
}

/* Starts tracking a launch or join whose child runs; `l` and `status` are the caller's
 * allocations, owned by the table from here on. */
static void track(struct launch *l, uint64_t id, const struct launch_started *started,
                  struct exec_status *status, unsigned flags, struct sandbox_cgroup *cgroup,
                  bool own_mount_ns)
{
    memset(status, 0, sizeof *status);
    *l = (struct launch){.id = id, .pid = started->pid, .status_fd = started->status_fd,
                         .sync_fd = started->sync_fd, .status = status, .cgroup = cgroup,
                         .flags = flags, .init_fd = started->init_fd,
                         .own_mount_ns = own_mount_ns, .mount_ns_fd = -1};
    launches[launch_count++] = l;
}

/* ---- exec outcome ----------------------------------------------------------------------- */

enum outcome { PENDING, EXEC_OK, EXEC_FAILED };

/*
 * Reads what is available on a pending launch's status socket. A complete record means the
 * child failed; EOF without one means execve closed the socket: success.
 */
static enum outcome read_status(struct launch *l)
{
    for (;;) {
        size_t want = sizeof *l->status - l->status_len;
        int fd, nfds;
        ssize_t n = recv_with_fds(l->status_fd, (char *)l->status + l->status_len, want, 0, &fd, 1, &nfds);
        if (nfds > 0) {
            /* the child's mount namespace, sent as soon as it exists (sandbox.c); its byte
             * is no part of a record */
            if (l->own_mount_ns && l->mount_ns_fd < 0)
                l->mount_ns_fd = fd;
            else
                close(fd);
            continue;
        }
        if (n > 0) {
            l->status_len += (size_t)n;
            if (l->status_len == sizeof *l->status)
                return EXEC_FAILED;
            continue;
        }
        if (n == 0) {
            if (l->status_len == 0)
                return EXEC_OK;
            /* died in the middle of writing its record: cannot happen short of SIGKILL */
            set_status(l->status, EIO, "read exec status", "");
            return EXEC_FAILED;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            return PENDING;
        set_status(l->status, errno, "read exec status", "");
        return EXEC_FAILED;
    }
}

/* Status socket readable: report STARTED, or FAILED once the child (about to _exit) is reaped. */
static void on_status_readable(struct launch *l)
{
    switch (read_status(l)) {
    case PENDING:
        return;
    case EXEC_OK:
        if (l->own_mount_ns && l->mount_ns_fd < 0)
            l->mount_ns_fd = teardown_hold(l->pid); /* the child could not send it */
        send_started(l->id, l->pid, l->cgroup);
        end_pending(l);
        return;
    case EXEC_FAILED:
        wait_for_child(l->pid, NULL);
        release_cgroup(l);
        send_failed(l->id, l->status);
        forget(l);
        return;
    }
}

/* SIGCHLD: reap everything; a launch still pending gets its STARTED/FAILED first. */
static void on_sigchld(void)
{
    struct signalfd_siginfo info;
    while (read(signal_fd, &info, sizeof info) > 0)
        ;
    for (;;) {
        int status;
        struct rusage ru;
        /* see which child ended without reaping it: while it is a zombie its pid and process
         * group id cannot be reused, so what it leaves can be killed safely (stop.c) */
        siginfo_t ended;
        memset(&ended, 0, sizeof ended);
        if (waitid(P_ALL, 0, &ended, WEXITED | WNOHANG | WNOWAIT) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (ended.si_pid == 0)
            return;
        struct launch *l = find_by_pid(ended.si_pid);
        if (l)
            lifecycle_main_ended(l->id, l->pid, l->flags);
        pid_t pid;
        do
            pid = wait4(ended.si_pid, &status, 0, &ru);
        while (pid < 0 && errno == EINTR);
        if (pid <= 0)
            return;
        if (!l) {
            prepared_reaped(pid); /* a spare that died unused, or an orphan adopted as subreaper */
            continue;
        }
        if (l->init_fd >= 0) /* the init's own status stands in for the command's */
            status = init_take_status(l->init_fd, status);
        if (l->status_fd >= 0) {
            /* the child is dead, so its end of the pipe is closed: this cannot block */
            enum outcome o = read_status(l);
            if (o == EXEC_FAILED) {
                release_cgroup(l);
                send_failed(l->id, l->status);
                forget(l);
                continue;
            }
            /* EXEC_OK, or PENDING if something else still held the pipe: it did exec or
             * was killed before; either way it ran as far as the helper can tell */
            send_started(l->id, l->pid, l->cgroup);
        }
        struct iso_exit ex = {
            .wait_status = status,
            .flags = 0,
            .user_cpu_usec = (int64_t)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
            .system_cpu_usec = (int64_t)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec,
            .max_rss_kib = ru.ru_maxrss,
        };
        cgroup_finish(l->cgroup, &ex); /* kills what is left of the sandbox, reads */
        trace_event(l->id, "exited"); /* before the frame, as "started" */
        send_frame(ISO_MSG_EXITED, l->id, &ex, sizeof ex);
        forget(l); /* removes the cgroup: after the report, which need not wait for it */
    }
}

/* ---- frames from the JVM ---------------------------------------------------------------- */

/* Reads exactly len bytes; false on EOF or error (the JVM is gone). */
static bool read_exactly(void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(CONTROL_FD, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static void handle_launch(uint64_t id, const uint8_t *payload, uint32_t len, const int fds[3])
{
    trace_event(id, "received");
    trace_launch_id = id;
    struct launch_spec spec;
    const char *why;
    if (spec_parse(payload, len, &spec, &why) < 0) {
        close_fds(fds, 3);
        protocol_error(id, why);
    }
    if (find_by_id(id)) {
        close_fds(fds, 3);
        protocol_error(id, "LAUNCH with the id of a launch still running");
    }

    struct launch *l = calloc(1, sizeof *l);
    struct exec_status *status = calloc(1, sizeof *status);
    if (launch_count == launch_capacity) {
        size_t cap = launch_capacity ? launch_capacity * 2 : 16;
        struct launch **grown = realloc(launches, cap * sizeof *grown);
        if (grown) {
            launches = grown;
            launch_capacity = cap;
        }
    }
    if (!l || !status || launch_count == launch_capacity) {
        free(l);
        free(status);
        close_fds(fds, 3);
        spec_free(&spec);
        struct exec_status oom = {.err = ENOMEM, .step = "allocate launch"};
        send_failed(id, &oom);
        return;
    }

    /* resource limits: the cgroup exists, limited, before clone; the child joins it before it
     * runs anything of the command, through the spec's cgroup.procs list (launch.c) */
    struct sandbox_cgroup *cgroup = NULL;
    const char **procs = NULL;
    /* a spare waiting inside the cgroup made ahead takes this launch, or the cgroup goes with
     * it; not when the spec names cgroups of its own to join, since a holder is moved nowhere */
    pid_t holder = cgroup_ready_holder(&spec);
    if (holder && (spec.cgroup_count > 0 || !prepared_can_serve(holder, &spec))) {
        cgroup_ready_discard();
        holder = 0;
    }
    if (cgroup_create(&spec, id, &cgroup, status) < 0) {
        close_fds(fds, 3);
        spec_free(&spec);
        send_failed(id, status);
        free(status);
        free(l);
        return;
    }
    if (cgroup) {
        size_t extra = cgroup_procs_files(cgroup, NULL, 0);
        procs = calloc(spec.cgroup_count + extra, sizeof *procs);
        if (!procs) {
            close_fds(fds, 3);
            spec_free(&spec);
            cgroup_destroy(cgroup);
            struct exec_status oom = {.err = ENOMEM, .step = "allocate launch"};
            send_failed(id, &oom);
            free(status);
            free(l);
            return;
        }
        memcpy(procs, spec.cgroup_procs, spec.cgroup_count * sizeof *procs);
        spec.cgroup_count += cgroup_procs_files(cgroup, procs + spec.cgroup_count, extra);
        spec.cgroup_procs = procs;
    }

    /* a prepared sandbox of this shape if there is one (prepared.c), else a fresh clone */
    struct launch_started started;
    int rc = prepared_launch(&spec, payload, len, fds, holder, &started);
    if (rc < 0)
        rc = launch_start(&spec, fds, CONTROL_FD, &started, status);
    close_fds(fds, 3); /* the child has its own copies */
    if (rc == 0) {
        prepared_want(&spec, payload, len); /* the next launch of this shape may well follow */
        if (cgroup)
            prepared_hold_want(&spec);
    }
    spec_free(&spec);
    free(procs);
    if (rc < 0) {
        cgroup_destroy(cgroup); /* the child, if any, is reaped: nothing of it remains */
        send_failed(id, status);
        free(status);
        free(l);
        return;
    }
    track(l, id, &started, status, (spec.clone_flags & CLONE_NEWPID) ? LAUNCH_PID_NS : 0, cgroup,
          (spec.clone_flags & CLONE_NEWNS) != 0);
}

static void handle_signal(uint64_t id, const uint8_t *payload, uint32_t len)
{
    int32_t sig;
    if (len != sizeof sig)
        protocol_error(id, "SIGNAL payload must be 4 bytes");
    memcpy(&sig, payload, sizeof sig);
    /* an unknown id is a launch that has been reaped meanwhile: nothing to do. A known one is
     * not reaped yet, so its pid cannot have been reused. */
    struct launch *l = find_by_id(id);
    if (l)
        kill(l->pid, sig);
}

/* ISO_MSG_SIGNAL_ALL: every process of the launch (stop.c); a no-op once it was reaped. */
static void handle_signal_all(uint64_t id, const uint8_t *payload, uint32_t len)
{
    int32_t sig;
    if (len != sizeof sig)
        protocol_error(id, "SIGNAL_ALL payload must be 4 bytes");
    memcpy(&sig, payload, sizeof sig);
    struct launch *l = find_by_id(id);
    if (l)
        lifecycle_signal_all(l->id, l->pid, l->flags, sig);
}

/* ISO_MSG_JOIN: a command in the namespaces of a launch of ours, or of any process (join.c).
 * The joined process is then a launch like any other, with flag LAUNCH_JOINED. */
static void handle_join(uint64_t id, const uint8_t *payload, uint32_t len, const int fds[3])
{
    struct join_spec spec;
    const char *why;
    if (join_parse(payload, len, &spec, &why) < 0) {
        close_fds(fds, 3);
        protocol_error(id, why);
    }
    if (find_by_id(id)) {
        close_fds(fds, 3);
        join_free(&spec);
        protocol_error(id, "JOIN with the id of a launch still running");
    }
    pid_t target = spec.pid;
    if (spec.by_launch) {
        /* a launch of ours, started and not reaped: its pid cannot be reused while we run */
        struct launch *t = find_by_id(spec.launch_id);
        target = t && t->status_fd < 0 ? t->pid : 0;
    }

    struct launch *l = calloc(1, sizeof *l);
    struct exec_status *status = calloc(1, sizeof *status);
    if (launch_count == launch_capacity) {
        size_t cap = launch_capacity ? launch_capacity * 2 : 16;
        struct launch **grown = realloc(launches, cap * sizeof *grown);
        if (grown) {
            launches = grown;
            launch_capacity = cap;
        }
    }
    struct launch_started started;
    bool no_memory = !l || !status || launch_count == launch_capacity;
    int rc;
    if (no_memory)
        rc = -1;
    else if (target <= 0)
        rc = set_status(status, ESRCH, "find target", "the sandbox has ended");
    else
        rc = join_start(&spec, target, fds, CONTROL_FD, &started, status);
    close_fds(fds, 3); /* the joined process has its own copies */
    join_free(&spec);
    if (rc < 0) {
        struct exec_status oom = {.err = ENOMEM, .step = "allocate launch"};
        send_failed(id, no_memory ? &oom : status);
        free(status);
        free(l);
        return;
    }
    /* a joined process leaves the sandbox's namespaces to the sandbox */
    track(l, id, &started, status, LAUNCH_JOINED, NULL, false);
}

/* Reads one frame (the socket is readable) and acts on it. */
static void on_control_readable(void)
{
    struct iso_frame_header h;
    /* fds travel with the header's first bytes */
    int fds[PASSED_FDS_MAX];
    int nfds;
    ssize_t n = recv_with_fds(CONTROL_FD, &h, sizeof h, 0, fds, PASSED_FDS_MAX, &nfds);
    if (n < 0 && errno == EPROTO)
        protocol_error(0, "too many file descriptors with one frame");
    if (n <= 0)
        shut_down(0);
    if ((size_t)n < sizeof h && !read_exactly((char *)&h + n, sizeof h - (size_t)n))
        shut_down(0);

    if (h.fd_count != nfds) {
        close_fds(fds, nfds);
        protocol_error(h.id, "fd_count does not match the file descriptors received");
    }
    int expected_fds = h.type == ISO_MSG_LAUNCH || h.type == ISO_MSG_JOIN ? 3 : 0;
    if (h.type != ISO_MSG_LAUNCH && h.type != ISO_MSG_SIGNAL && h.type != ISO_MSG_JOIN &&
        h.type != ISO_MSG_SIGNAL_ALL) {
        close_fds(fds, nfds);
        protocol_error(h.id, "unknown frame type");
    }
    if (nfds != expected_fds) {
        close_fds(fds, nfds);
        protocol_error(h.id, "wrong number of file descriptors for the frame type");
    }
    if (h.length > ISO_MAX_FRAME) {
        close_fds(fds, nfds);
        protocol_error(h.id, "frame too large");
    }
    uint8_t *payload = malloc(h.length ? h.length : 1);
    if (!payload) {
        close_fds(fds, nfds);
        protocol_error(h.id, "out of memory for the frame");
    }
    if (!read_exactly(payload, h.length)) {
        close_fds(fds, nfds);
        shut_down(0);
    }

    if (h.type == ISO_MSG_LAUNCH)
        handle_launch(h.id, payload, h.length, fds);
    else if (h.type == ISO_MSG_JOIN)
        handle_join(h.id, payload, h.length, fds);
    else if (h.type == ISO_MSG_SIGNAL_ALL)
        handle_signal_all(h.id, payload, h.length);
    else
        handle_signal(h.id, payload, h.length);
    free(payload);
}

/* ---- start-up and the loop -------------------------------------------------------------- */

static void close_inherited_fds(void)
{
    if (iso_close_range(CONTROL_FD + 1, ~0u, 0) == 0)
        return;
    /* kernels before 5.9: close what /proc lists, or everything up to the limit */
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            int fd = atoi(e->d_name);
            if (fd > CONTROL_FD && fd != self)
                close(fd);
        }
        closedir(d);
        return;
    }
    struct rlimit rl;
    long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                   ? (long)rl.rlim_cur
                   : 65536;
    for (long fd = CONTROL_FD + 1; fd < max; fd++)
        close((int)fd);
}

static void setup_signals(void)
{
    /* Start from all defaults: an ignored SIGCHLD inherited from the JVM would make children
     * reap themselves, and other inherited SIG_IGNs would leak into sandboxes. The raw
     * syscall also reaches the signals glibc reserves (32, 33), which sigaction() refuses;
     * an all-zero kernel sigaction is SIG_DFL on every architecture. */
    static const unsigned long dfl[4] = {0, 0, 0, 0};
    for (int sig = 1; sig <= 64; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            syscall(SYS_rt_sigaction, sig, dfl, NULL, 8); /* 8: the kernel's sigset size */
    /* terminal and pipe signals are the JVM's business; the helper dies only of socket EOF */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    for (size_t i = 0; i < helper_ignored_signal_count; i++)
        sigaction(helper_ignored_signals[i], &sa, NULL);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_SETMASK, &chld, NULL) < 0) {
        perror("isolation-helper: sigprocmask");
        exit(2);
    }
    signal_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) {
        perror("isolation-helper: signalfd");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    /* the same image serves as a sandbox's init (init.c), started by execve inside it */
    if (init_is_init_mode(argc, argv))
        return init_main(argc, argv);

    /* keep 0-2 occupied so no fd the helper opens later can land there */
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF && open("/dev/null", O_RDWR) < 0)
            return 2;
    close_inherited_fds();

    struct stat st;
    if (fstat(CONTROL_FD, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        fputs("isolation-helper: fd 3 is not the control socket\n", stderr);
        return 2;
    }
    if (fcntl(CONTROL_FD, F_SETFD, FD_CLOEXEC) < 0) {
        perror("isolation-helper: fcntl");
        return 2;
    }
    /* executed from a memfd, the helper's name would be that descriptor's number ("12") */
    prctl(PR_SET_NAME, "isolation", 0, 0, 0);
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--prepared=", 11) == 0)
            prepared_configure(atoi(argv[i] + 11));
        else if (strncmp(argv[i], "--trace=", 8) == 0)
            trace_open(argv[i] + 8);
    setup_signals();
    sandbox_probe_kernel();
    teardown_start();
    lifecycle_setup(); /* child subreaper: no process of a sandbox escapes the helper (stop.c) */

    uint32_t hello[2] = {ISO_PROTOCOL_VERSION, (uint32_t)getpid()};
    send_frame(ISO_MSG_HELLO, 0, hello, sizeof hello);

    int64_t busy_ms = monotonic_ms(); /* when the last pass that had events to handle ended */
    struct pollfd *pfds = NULL;
    struct launch **polled = NULL;
    size_t pfd_capacity = 0;
    for (;;) {
        size_t need = 2 + launch_count;
        if (need > pfd_capacity) {
            size_t cap = need * 2;
            struct pollfd *p = realloc(pfds, cap * sizeof *p);
            if (p)
                pfds = p;
            struct launch **q = realloc(polled, cap * sizeof *q);
            if (q)
                polled = q;
            if (!p || !q)
                protocol_error(0, "out of memory");
            pfd_capacity = cap;
        }
        size_t n = 0;
        pfds[n++] = (struct pollfd){.fd = CONTROL_FD, .events = POLLIN};
        pfds[n++] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
        for (size_t i = 0; i < launch_count; i++) {
            if (launches[i]->status_fd >= 0) {
                polled[n] = launches[i];
                pfds[n++] = (struct pollfd){.fd = launches[i]->status_fd, .events = POLLIN};
            }
        }

        int timeout = cgroup_pending_timeout();
        int64_t idle_ms = monotonic_ms() - busy_ms;
        int ahead[3] = {prepared_timeout(), cgroup_ready_timeout(), prepared_hold_timeout(idle_ms)};
        for (int i = 0; i < 3; i++)
            if (timeout < 0 || (ahead[i] >= 0 && ahead[i] < timeout))
                timeout = ahead[i];
        int ready = poll(pfds, n, timeout);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            perror("isolation-helper: poll");
            shut_down(2);
        }
        cgroup_retry_pending(); /* cgroups whose removal met dying tasks */
        /* exec outcomes first, so a STARTED is not overtaken by reaping */
        for (size_t i = 2; i < n; i++)
            if (pfds[i].revents)
                on_status_readable(polled[i]); /* frees at most polled[i] itself */
        if (pfds[1].revents)
            on_sigchld();
        if (pfds[0].revents)
            on_control_readable();
        /* spares are made only when nothing else waits */
        if (ready > 0)
            busy_ms = monotonic_ms(); /* idle time counts from the end of the work */
        prepared_tick(ready == 0);
        cgroup_ready_tick(ready == 0);
        prepared_hold_tick(ready == 0 ? monotonic_ms() - busy_ms : 0);
    }
}
