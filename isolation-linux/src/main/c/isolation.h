/*
 * Declarations shared by the helper's source files (not part of the wire protocol).
 *
 *   helper.c   start-up, event loop, frame I/O, launch table, reaping
 *   spec.c     LAUNCH payload (TLV) parsing into struct launch_spec
 *   launch.c   helper side of one launch: clone, cgroups, id maps, release
 *   sandbox.c  child side of one launch: namespaces set-up, root filesystem, execve
 *   cgroup.c   the cgroup of a launch with resource limits: create, limit, drain, remove
 *   init.c     the minimal init in front of the command (ISO_TLV_INIT)
 *   join.c     ISO_MSG_JOIN: a command in the namespaces of a running sandbox or process
 *   stop.c     subreaper, ISO_MSG_SIGNAL_ALL, clean-up when a main process ends, shut-down
 *   trace.c    launch phase timestamps for diagnosis (--trace=PATH)
 */
#ifndef ISOLATION_HELPER_H
#define ISOLATION_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "protocol.h"

struct mount_spec {
    uint32_t kind;  /* ISO_MOUNT_* */
    uint32_t flags; /* ISO_MOUNTF_* */
    uint64_t size;  /* tmpfs bytes, 0 = kernel default */
    const char *source;
    const char *dest;
};

/* One ISO_TLV_CG_PARENT record. */
struct cgroup_parent {
    uint32_t roles; /* ISO_CG_* */
    const char *path;
};

/* The ISO_TLV_CG_* limits of a launch (validated by spec_parse). */
struct cgroup_limits {
    bool has_memory, has_pids, has_cpu_quota, has_cpu_weight;
    uint64_t memory_max;
    uint64_t swap_max; /* beyond memory_max; 0 unless ISO_TLV_CG_SWAP_MAX said otherwise */
    uint64_t pids_max;
    uint64_t cpu_quota_us, cpu_period_us;
    uint64_t cpu_weight; /* 1..10000 */
};

/* A parsed LAUNCH payload. Every pointer points into `arena` (one allocation). */
struct launch_spec {
    char **argv;               /* NULL-terminated, argc >= 1 */
    size_t argc;
    char **envp;               /* NULL-terminated */
    const char *cwd;           /* NULL: "/" */
    uint64_t clone_flags;      /* CLONE_NEW* only (validated) */
    bool unshare_time;
    bool setgroups_deny;
    bool root_writable;
    bool has_run_as;
    bool init;                 /* ISO_TLV_INIT: a minimal init runs as PID 1 */
    uint32_t run_uid, run_gid;
    const char *uid_map, *gid_map;     /* NULL: none */
    const char *newuidmap, *newgidmap; /* NULL: write /proc/PID/?id_map directly */
    const char *rootfs;                /* NULL: host root, read-only */
    const char *hostname;              /* NULL: keep */
    struct mount_spec *mounts;
    size_t mount_count;
    const char **cgroup_procs;
    size_t cgroup_count;
    struct cgroup_parent *cgroup_parents; /* none: the launch gets no cgroup of its own */
    size_t cgroup_parent_count;
    struct cgroup_limits limits;
    void *arena;
};

/* Parses and validates a LAUNCH payload. On error returns -1 and sets *why (static text). */
int spec_parse(const uint8_t *payload, size_t len, struct launch_spec *out, const char **why);
void spec_free(struct launch_spec *spec);

/*
 * What a failed launch reports. The child writes exactly this record to its exec-status pipe
 * (then _exits); the helper also uses it for its own failures.
 */
struct exec_status {
    int32_t err;
    char step[64];
    char path[4096];
};

/* The helper's view of a launch whose clone succeeded and whose child was released. */
struct launch_started {
    pid_t pid;
    int status_fd; /* the helper's end of the exec-status socket, O_NONBLOCK|O_CLOEXEC */
    int init_fd;   /* with an init: read end of its report pipe (the command's wait status),
                      O_CLOEXEC; else -1 */
    int sync_fd;   /* write end of the sync pipe, kept open until the exec outcome is known
                      so that a child that had to re-arm PDEATHSIG can tell the helper lives */
};

/*
 * Helper side of a launch: clone, parent-side set-up, release of the child.
 * Returns 0 and fills *started, or -1 and fills *failure (the child, if any, is reaped).
 */
int launch_start(const struct launch_spec *spec, const int stdio[3], int control_fd,
                 struct launch_started *started, struct exec_status *failure);

/* Fds the child inherits and must deal with; see sandbox_main. */
struct sandbox_fds {
    int sync_read;    /* one byte from the helper = go; EOF = the helper gave up */
    int sync_write;   /* the helper's end, inherited by clone: closed at once */
    int status_write; /* CLOEXEC: EOF at execve = success; a record = failure */
    int status_read;  /* the helper's end: closed at once */
    int control;      /* the helper's control socket: closed */
    int init_report;  /* with an init: write end of its report pipe, else -1 */
    int stdio[3];     /* the sandbox's stdin, stdout, stderr */
    const struct tasks_files *tasks; /* cgroups the child moves itself into once released */
};

/* Decisions the helper takes before clone() for the child. */
struct sandbox_plan {
    uint64_t clone_flags;   /* passed to clone(): CLONE_NEWUSER, CLONE_NEWPID */
    uint64_t unshare_flags; /* the other CLONE_NEW* flags: the child unshares them itself */
    uint64_t unshared_flags; /* of those, the ones a prepared sandbox made already */
    bool root_ready; /* a prepared sandbox whose root is built already (PREPARED_ROOT) */
    /* In a new user namespace whose maps leave the helper's own uid/gid out (root mapping a
     * subordinate range), the child starts as an unmapped id and could not even mount a
     * tmpfs (EOVERFLOW): it switches to this mapped id first (0 when mapped). */
    bool switch_uid, switch_gid;
    uint32_t uid, gid;
};

/* Child side of a launch, running right after clone(). Never returns. */
/* Shared by the launch and join children (sandbox.c): all-default signal dispositions and an
 * empty mask; the three received stdio fds on 0-2 (-1 with errno). */
void child_reset_signals(void);
int child_setup_stdio(const int stdio[3]);

/* Writes `content` to an existing file in a single write(), as id maps and cgroup files need
 * (launch.c); -1 with errno. */
int write_whole_file(const char *path, const char *content);

/* Native-order integers from unaligned wire bytes. */
static inline uint32_t wire_get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint64_t wire_get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Prepared sandboxes (prepared.c): the namespaces a spare child makes before any launch asks
 * for it. The mount namespace is not among them: it is copied at the launch, so that host
 * mounts made meanwhile are seen; nor the cgroup namespace, made once its cgroups are joined. */
#define PREPARED_EARLY_FLAGS ((uint64_t)(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC))

/* What the helper sends a prepared sandbox ahead of a message's payload, with the fds as
 * SCM_RIGHTS: for a LAUNCH stdin, stdout, stderr, an init's report pipe, then one per cgroup
 * file the spare moves itself through (struct tasks_files); for a JOIN only the latter. After
 * the payload come the paths of those files, each NUL-terminated, for its error messages. */
struct prepared_header {
    uint64_t launch_id; /* LAUNCH: the JVM's id of the launch, for trace_event */
    uint32_t length;    /* of the payload that follows */
    uint32_t fd_count;  /* LAUNCH: 3, 4 with an init, plus the cgroup files; ROOT: 0;
                           JOIN: the cgroup files, 1 to TASKS_FILES_MAX */
    uint32_t kind;      /* PREPARED_LAUNCH, PREPARED_ROOT or PREPARED_JOIN */
    uint32_t tasks_len; /* bytes of tasks paths after the payload */
};

/* Most cgroups a sandbox moves itself into (the helper moves it into the others), the bytes of
 * their paths, and so the most fds a LAUNCH carries: stdio, an init's report pipe, tasks. */
#define TASKS_FILES_MAX 8
#define TASKS_PATHS_MAX (TASKS_FILES_MAX * 256)
#define PREPARED_FDS_MAX (4 + TASKS_FILES_MAX)

/* Whether bit i of a cgroup mask (bit i: the i-th of a spec's cgroup_procs; at most 32) is set. */
static inline bool cgroup_in_mask(uint32_t mask, size_t i)
{
    return i < 32 && (mask & (1u << i));
}

/* The files a sandbox moves itself into its launch's cgroups through, opened by the helper
 * (launch_open_tasks_files): on cgroup v1 the `tasks` file beside each cgroup.procs, on v2
 * cgroup.procs itself; for a direct launch, a cgroup v2 directory to be born in instead. */
struct tasks_files {
    uint32_t mask;                /* bit i: spec->cgroup_procs[i] has its tasks file here */
    int fds[TASKS_FILES_MAX];     /* write-only, close-on-exec */
    int count;
    char paths[TASKS_PATHS_MAX];  /* theirs, each NUL-terminated, for error messages */
    uint32_t paths_len;
    int birth_dir;                /* for clone3's CLONE_INTO_CGROUP, else -1 */
    size_t birth_index;           /* its index in spec->cgroup_procs */
};

enum {
    PREPARED_LAUNCH = 1, /* the payload is the launch: go on and exec */
    PREPARED_ROOT = 2,   /* the payload is an earlier launch of this shape: build its root now,
                            answer with a struct prepared_ready, and wait for the launch */
    PREPARED_JOIN = 3,   /* no payload; the fds are the files (with their paths) to move into
                            the cgroup made ahead through: move, answer PREPARED_JOINED, and
                            wait for the launch */
};

/* A spare's one-byte answer once it has moved itself into the cgroup made ahead. */
#define PREPARED_JOINED 'j'

/* The host identity of one path a prepared root pinned (sandbox_host_paths order). */
struct host_id {
    uint64_t dev, ino;
};

/* Most host paths a prepared root may pin; a spec with more is never prepared. */
#define PREPARED_IDS_MAX 64

/* A spare's answer to PREPARED_ROOT, once its root is built: the identities of the host paths
 * it pinned, sent as its first prepared_ready_size(id_count) bytes; as SCM_RIGHTS, an fd of
 * its /proc/self/mountinfo, which polls POLLPRI once its mount namespace changes. */
struct prepared_ready {
    uint32_t id_count;
    uint32_t reserved;
    struct host_id ids[PREPARED_IDS_MAX];
};

static inline size_t prepared_ready_size(uint32_t id_count)
{
    return offsetof(struct prepared_ready, ids) + id_count * sizeof(struct host_id);
}

/* Whether a launch of this spec may get its root built ahead (sandbox.c): a rootfs entered
 * in place, in a mount namespace of its own, with at most PREPARED_IDS_MAX host paths. */
bool sandbox_root_preparable(const struct launch_spec *spec);

/* The host paths a launch of `spec` pins, in pinning order (sandbox.c): the rootfs, each bind
 * source, the device nodes, and the host /proc without a PID namespace. Fills up to `max`
 * and returns how many there are. */
size_t sandbox_host_paths(const struct launch_spec *spec, const char **paths, size_t max);

/* Child side of a prepared sandbox, right after clone(): waits for its maps, makes the early
 * namespaces, then for a launch, and goes on like sandbox_main. Never returns. */
_Noreturn void sandbox_prepared_main(const struct sandbox_plan *plan, int channel, int status_write);

/* Opens, for each of the spec's cgroup.procs files, the file the sandbox moves itself through
 * (see launch.c); with `birth_dir`, the first cgroup v2 among them is opened as the directory
 * to be born in instead. Never fails: a file it cannot open is left to launch_join_cgroups.
 * launch_close_tasks_files closes the helper's copies. */
void launch_open_tasks_files(const struct launch_spec *spec, bool birth_dir, struct tasks_files *out);
void launch_close_tasks_files(struct tasks_files *tasks);

/* Helper side, shared by direct and prepared launches (launch.c): which namespaces go to
 * clone() and which identity the child takes; the id maps of `pid`; its cgroups. */
void launch_plan(const struct launch_spec *spec, struct sandbox_plan *plan);
int launch_write_maps(const struct launch_spec *spec, pid_t pid, struct exec_status *failure);
int launch_join_cgroups(const struct launch_spec *spec, pid_t pid, uint32_t skip_mask,
                        struct exec_status *failure);

/* The pool of prepared sandboxes (prepared.c). */
void prepared_configure(int max_count);
/* After a launch: a spare of its shape is wanted, building this launch's root ahead when the
 * spec allows (sandbox_root_preparable); `payload` is the launch's, copied. */
void prepared_want(const struct launch_spec *spec, const uint8_t *payload, uint32_t len);
/* A spare of the spec's shape, started on this launch; -1 (and nothing done) when there is
 * none or it could not take the launch: the caller then launches directly. A `holder` (not 0)
 * is the spare already inside the launch's cgroup (prepared_can_serve said yes): only it is
 * taken, and it is not moved again. */
int prepared_launch(const struct launch_spec *spec, const uint8_t *payload, uint32_t len,
                    const int stdio[3], pid_t holder, struct launch_started *started);
/* poll() timeout for the pool's work: 0 while a spare is wanted, else until the next expiry. */
int prepared_timeout(void);
/* From the event loop: makes one wanted spare when `idle`, and retires unused ones. */
void prepared_tick(bool idle);
/* A reaped pid: whether it was a spare (then forgotten). */
bool prepared_reaped(pid_t pid);
/* Kills and forgets spare `pid` (the cgroup made ahead that holds it is being dropped). */
void prepared_discard(pid_t pid);
/* After a launch with a cgroup: a spare of its shape should wait inside the cgroup made ahead,
 * so that the next such launch need not move it (a move after an idle spell can wait for an
 * RCU grace period, milliseconds). */
void prepared_hold_want(const struct launch_spec *spec);
/* From the event loop, once the helper has been idle for `idle_ms` (PREPARED_HOLD_IDLE_MS):
 * moves a spare of that shape into the unheld cgroup made ahead. A move can block for an RCU
 * grace period, so it waits for a quiet spell rather than delaying a stream of launches, whose
 * own moves are quick. The timeout gives the poll() timeout that work needs (-1: none). */
void prepared_hold_tick(int64_t idle_ms);
int prepared_hold_timeout(int64_t idle_ms);
/* Whether spare `pid` would take a launch of `spec` now (prepared_launch's own checks). */
bool prepared_can_serve(pid_t pid, const struct launch_spec *spec);

/* Mount namespace teardown off the exit path (teardown.c): at start, the closing child; an
 * nsfs fd holding a sandbox's mount namespace (-1 if it has ended); after its exit was
 * reported, passing it on to be closed there. */
void teardown_start(void);
int teardown_hold(pid_t pid);
void teardown_release(int fd);

/* In the helper, once at start: which root set-up the kernel allows (sandbox.c). */
void sandbox_probe_kernel(void);

/* guard.c: for a process running as uid 0, a seccomp filter that keeps read-only mounts
 * read-only (no_new_privs set first; call after the last change of ids) */
int guard_remounts(void);

_Noreturn void sandbox_main(const struct launch_spec *spec, const struct sandbox_plan *plan,
                            const struct sandbox_fds *fds);

/* Signals the helper ignores; the sandbox resets exactly these to SIG_DFL. */
extern const int helper_ignored_signals[];
extern const size_t helper_ignored_signal_count;

/* write() until done or error; returns 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

/* A socketpair for a child's exec status (launch.c): SEQPACKET, close-on-exec. The child sends
 * a failure record (struct exec_status) or, before that, its mount namespace (send_fd);
 * end of file without a record means its execve succeeded. */
int status_channel(int fds[2]);

/* Most descriptors one message may carry (a spare's LAUNCH carries the most). */
#define PASSED_FDS_MAX 16
_Static_assert(PREPARED_FDS_MAX <= PASSED_FDS_MAX, "a LAUNCH's fds fit one message");

/* Closes each of the n fds that is not -1. */
void close_fds(const int *fds, int n);

/* sendmsg() of `len` bytes carrying `nfds` descriptors (0..PASSED_FDS_MAX), retried on EINTR,
 * never raising SIGPIPE. */
ssize_t send_with_fds(int socket, const void *buf, size_t len, const int *fds, int nfds, int flags);

/* send_with_fds() of one byte carrying `fd`. */
ssize_t send_fd(int socket, int fd, int flags);

/* recvmsg() of up to `len` bytes, retried on EINTR; the descriptors attached go into `fds`,
 * their number into *nfds. More than `max_fds` of them closes them all and fails with
 * EPROTO. */
ssize_t recv_with_fds(int socket, void *buf, size_t len, int flags, int *fds, int max_fds, int *nfds);

/* waitpid() for one child, retried on EINTR; its wait status into *status unless NULL. */
void wait_for_child(pid_t pid, int *status);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t monotonic_ms(void);

/* Closes every fd above stderr except `a`, `b` (which may be equal) and trace_fd; sandbox.c. */
void close_fds_except(int a, int b);

/* In a child before execve: sends the helper a failure record on `status_fd` and exits 127. */
_Noreturn void child_fail(int status_fd, int err, const char *step, const char *path);

/* Fills a failure record (truncating step/path) and returns -1 for convenience. */
int set_status(struct exec_status *st, int err, const char *step, const char *path);

/*
 * The cgroup of a launch with resource limits (cgroup.c). Opaque; NULL means none, and every
 * function below accepts NULL.
 */
struct sandbox_cgroup;

/* Before clone: creates the launch's cgroup in every parent of the spec and writes the limits.
 * Returns 0 (*out NULL when the spec has no parents), or -1 with *failure filled and nothing
 * left behind. */
int cgroup_create(const struct launch_spec *spec, uint64_t id, struct sandbox_cgroup **out,
                  struct exec_status *failure);
/* The cgroup.procs files a process must be written to (up to max); returns how many.
 * With files NULL: how many there are. */
size_t cgroup_procs_files(const struct sandbox_cgroup *cg, const char **files, size_t max);
/* The directories reported in STARTED; "" when there is none. */
const char *cgroup_memory_dir(const struct sandbox_cgroup *cg);
const char *cgroup_cpu_dir(const struct sandbox_cgroup *cg);
/* Signals every process in the cgroup (and below); SIGKILL uses cgroup.kill on v2 when the
 * kernel has it. Only processes still listed as members are signalled, pinned by pidfd. */
void cgroup_signal_all(const struct sandbox_cgroup *cg, int sig);
/* After the main process was reaped: kills what is left, waits until the cgroup is empty,
 * and fills the cgroup fields and flags of *ex. cgroup_destroy removes it once the exit has
 * been reported. */
void cgroup_finish(const struct sandbox_cgroup *cg, struct iso_exit *ex);
/* Kills what is left, waits until the cgroup is empty, removes it and frees cg. */
void cgroup_destroy(struct sandbox_cgroup *cg);
/* The cgroup made ahead for the next launch with the same parents and limits: the poll
 * timeout its work needs (0 while one is wanted, -1: none), and that work, done when `idle`. */
int cgroup_ready_timeout(void);
void cgroup_ready_tick(bool idle);
/* The spare inside the cgroup made ahead when that cgroup suits `spec`; 0 when none. */
pid_t cgroup_ready_holder(const struct launch_spec *spec);
/* Whether a cgroup made ahead is there with no spare in it yet. */
bool cgroup_ready_unheld(void);
/* The spare inside the cgroup made ahead, whatever the spec; 0 when none. */
pid_t cgroup_ready_held_by(void);
/* The cgroup.procs files of the cgroup made ahead while no spare is in it (at most `max`;
 * their count, 0 when there is none), for the spare to move itself through their tasks files. */
size_t cgroup_ready_procs(const char **procs, size_t max);
/* Makes spare `pid` the one inside the cgroup made ahead, moving it into each hierarchy except
 * those of `moved_mask` (bit i: the i-th of cgroup_ready_procs, which the spare moves itself
 * into); false (and the cgroup and the spare dropped) when that fails. */
bool cgroup_ready_hold(pid_t pid, uint32_t moved_mask);
/* Spare `pid` is gone (reaped): if it held the cgroup made ahead, that cgroup goes too. */
void cgroup_ready_release(pid_t pid);
/* Drops the cgroup made ahead, killing the spare in it. */
void cgroup_ready_discard(void);
/* Removals that failed with EBUSY are retried from the event loop: the poll timeout it needs
 * (-1: none pending), and the retry itself. */
int cgroup_pending_timeout(void);
void cgroup_retry_pending(void);
/* A last try at pending removals before the helper exits. */
void cgroup_shutdown(void);
/* cgroup v1 cpu.shares for a v2 cpu.weight (systemd's mapping: weight * 1024 / 100). */
uint64_t cgroup_weight_to_shares(uint64_t weight);

/* ---- lifecycle: init (init.c), join (join.c), stopping (stop.c) --------------------------- */

/* struct launch flags (helper.c) that stop.c acts on */
enum {
    LAUNCH_PID_NS = 1, /* the main process is PID 1 of a new PID namespace */
    LAUNCH_JOINED = 2, /* a joined process (ISO_MSG_JOIN), not a sandbox's main process */
};

/* In the sandbox child, after its set-up, just before execve (init.c): forks; returns 0 in the
 * child, which goes on to execve the command; the parent re-executes the helper's image as the
 * init and does not return unless that fails (-2: the child will not run; report and exit).
 * -1 with errno and *step if nothing was started. */
int init_start(int report_fd, const char **step);
/* Whether main() was started as the init (argv[0] "isolation-init"), and the init itself. */
bool init_is_init_mode(int argc, char **argv);
int init_main(int argc, char **argv);
/* On reaping an init: the command's wait status from its report pipe, else the init's own. */
int init_take_status(int report_fd, int init_wait_status);

/* A parsed JOIN payload (join.c). Pointers point into `arena`. */
struct join_spec {
    char **argv;
    size_t argc;
    char **envp;
    const char *cwd;            /* NULL: "/" */
    bool has_run_as;            /* RUN_AS given; UINT32_MAX in it means "the target's" */
    uint32_t run_uid, run_gid;
    bool by_launch;             /* ISO_TLV_JOIN_LAUNCH */
    uint64_t launch_id;
    bool by_pid;                /* ISO_TLV_JOIN_PID */
    pid_t pid;
    bool has_namespaces;        /* ISO_TLV_JOIN_NAMESPACES; absent: all that differ */
    uint64_t namespaces;
    void *arena;
};
int join_parse(const uint8_t *payload, size_t len, struct join_spec *out, const char **why);
void join_free(struct join_spec *spec);
/* Helper side of a join into the process `target`: like launch_start (init_fd is -1). */
int join_start(const struct join_spec *spec, pid_t target, const int stdio[3], int control_fd,
               struct launch_started *started, struct exec_status *failure);

/* stop.c */
void lifecycle_setup(void); /* at start-up: become a child subreaper */
/* ISO_MSG_SIGNAL_ALL for a launch whose main process `pid` is not reaped yet */
void lifecycle_signal_all(uint64_t id, pid_t pid, unsigned flags, int sig);
/* Its main process has ended and is not reaped yet: kill what it leaves in its process group
 * (without a PID namespace; the cgroup is cgroup_finish's) */
void lifecycle_main_ended(uint64_t id, pid_t pid, unsigned flags);
/* At shut-down: kill and reap every descendant of the helper, until none is left. */
void lifecycle_kill_everything(void);
/* HOOK, defined by cgroup.c (weak default in stop.c: NULL): the directory through which every
 * member of launch id's own cgroup is signalled, or NULL when it has none. */
const char *launch_cgroup_dir(uint64_t id);
/* Signals every member of a cgroup directory: cgroup.kill, else frozen, else in rounds. */
int lifecycle_cgroup_signal(const char *dir, int sig);
/* For each hierarchy where the process of /proc directory `procdir` is in another cgroup than
 * the caller, calls fn with that cgroup's host directory; -1 with errno and errpath filled. */
int lifecycle_foreign_cgroups(int procdir, int (*fn)(const char *dir, const char *controllers, void *arg),
                              void *arg, char *errpath, size_t errlen);
/* A whole file, relative to dirfd, NUL-terminated, malloc'd; NULL with errno. */
char *lifecycle_read_at(int dirfd, const char *path);
int iso_pidfd_open(pid_t pid);
int iso_pidfd_send_signal(int pidfd, int sig);

/* ---- trace.c ---------------------------------------------------------------------------- */

/* The trace file's fd, -1 when not tracing; kept open in spares and sandboxes until execve. */
extern int trace_fd;
/* The launch the code running now serves: set by the helper when it receives one (so that a
 * directly cloned sandbox inherits it); a spare takes it from its PREPARED_LAUNCH header. */
extern uint64_t trace_launch_id;
void trace_open(const char *path);
/* Appends "LAUNCH_ID PHASE NS" when tracing; keeps errno. */
void trace_event(uint64_t launch_id, const char *phase);

#endif
