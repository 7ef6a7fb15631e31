/*
 * Declarations shared by the helper's source files (not part of the wire protocol).
 *
 *   helper.c   start-up, event loop, frame I/O, launch table, reaping
 *   spec.c     LAUNCH payload (TLV) parsing into struct launch_spec
 *   launch.c   helper side of one launch: clone, cgroups, id maps, release
 *   sandbox.c  child side of one launch: namespaces set-up, root filesystem, execve
 */
#ifndef ISOLATION_HELPER_H
#define ISOLATION_HELPER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"

struct mount_spec {
    uint32_t kind;  /* ISO_MOUNT_* */
    uint32_t flags; /* ISO_MOUNTF_* */
    uint64_t size;  /* tmpfs bytes, 0 = kernel default */
    const char *source;
    const char *dest;
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
    uint32_t run_uid, run_gid;
    const char *uid_map, *gid_map;     /* NULL: none */
    const char *newuidmap, *newgidmap; /* NULL: write /proc/PID/?id_map directly */
    const char *rootfs;                /* NULL: host root, read-only */
    const char *hostname;              /* NULL: keep */
    struct mount_spec *mounts;
    size_t mount_count;
    const char **cgroup_procs;
    size_t cgroup_count;
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
    int status_fd; /* read end of the exec-status pipe, O_NONBLOCK|O_CLOEXEC */
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
    int stdio[3];     /* the sandbox's stdin, stdout, stderr */
};

/* Decisions the helper takes before clone() for the child. */
struct sandbox_plan {
    uint64_t clone_flags;   /* passed to clone(): CLONE_NEWUSER, CLONE_NEWPID */
    uint64_t unshare_flags; /* the other CLONE_NEW* flags: the child unshares them itself */
    /* In a new user namespace whose maps leave the helper's own uid/gid out (root mapping a
     * subordinate range), the child starts as an unmapped id and could not even mount a
     * tmpfs (EOVERFLOW): it switches to this mapped id first (0 when mapped). */
    bool switch_uid, switch_gid;
    uint32_t uid, gid;
};

/* Child side of a launch, running right after clone(). Never returns. */
_Noreturn void sandbox_main(const struct launch_spec *spec, const struct sandbox_plan *plan,
                            const struct sandbox_fds *fds);

/* Signals the helper ignores; the sandbox resets exactly these to SIG_DFL. */
extern const int helper_ignored_signals[];
extern const size_t helper_ignored_signal_count;

/* write() until done or error; returns 0 or -1 with errno. */
int write_all(int fd, const void *buf, size_t len);

/* Fills a failure record (truncating step/path) and returns -1 for convenience. */
int set_status(struct exec_status *st, int err, const char *step, const char *path);

#endif
