/*
 * Wire protocol between the JVM (dev.isolation.linux.internal.HelperProtocol) and the
 * native helper. Both ends live on the same machine, so integers are in native byte order.
 *
 * Transport: one AF_UNIX SOCK_STREAM socket, handed to the helper as fd 3. Every message is a
 * frame: a 16-byte header followed by `length` payload bytes. File descriptors travel as
 * SCM_RIGHTS ancillary data on the sendmsg() that carries the frame's header.
 *
 * One helper serves any number of launches, concurrently: every frame names the launch it
 * belongs to by a 64-bit id that the JVM chooses. When the socket reaches EOF (the JVM exited
 * or died), the helper kills every sandbox it started, reaps them, and exits.
 */
#ifndef ISOLATION_PROTOCOL_H
#define ISOLATION_PROTOCOL_H

#include <stdint.h>

#define ISO_PROTOCOL_VERSION 2
#define ISO_MAX_FRAME (64u * 1024u * 1024u)

struct iso_frame_header {
    uint32_t length;   /* payload bytes after this header */
    uint16_t type;     /* ISO_MSG_* */
    uint16_t fd_count; /* number of SCM_RIGHTS fds sent with this frame */
    uint64_t id;       /* launch id chosen by the JVM; 0 for helper-wide frames */
};

/* JVM -> helper */
enum {
    /* payload: TLV records (ISO_TLV_*); fds: exactly 3, the sandbox's stdin, stdout, stderr */
    ISO_MSG_LAUNCH = 1,
    /* payload: int32 signal number. Signals the launch's main process if not yet reaped. */
    ISO_MSG_SIGNAL = 2,
    /* Runs another command inside a running sandbox (nsenter-style). id: a NEW id for the
     * joined process, which then gets STARTED/FAILED/EXITED like a launch. payload: TLV records:
     * exactly one of ISO_TLV_JOIN_LAUNCH or ISO_TLV_JOIN_PID, optional ISO_TLV_JOIN_NAMESPACES,
     * ARG (repeated), ENV, CWD, RUN_AS; fds: exactly 3 (stdin, stdout, stderr). In a JOIN's
     * RUN_AS, an id of 0xffffffff means "the target's" (so one of uid and gid can be given). */
    ISO_MSG_JOIN = 3,
    /* payload: int32 signal number. Signals EVERY process of the launch (destroy): the whole
     * PID namespace through its PID 1, or every member of its cgroup, or else its process
     * group. A no-op once the launch was reaped. */
    ISO_MSG_SIGNAL_ALL = 4,
};

/* helper -> JVM */
enum {
    /* id 0; payload: uint32 protocol version, uint32 helper pid */
    ISO_MSG_HELLO = 100,
    /* payload: int32 host pid, then (version 2) the sandbox's cgroup directories as
     * NUL-terminated strings: memory, cpu (the same directory twice on cgroup v2; empty
     * strings when the launch has no cgroup). Sent once execve of the command succeeded. */
    ISO_MSG_STARTED = 101,
    /* payload: int32 errno, then step (NUL-terminated), then path (NUL-terminated, may be "").
     * Sent instead of STARTED; by then every process of that launch is reaped and nothing of it
     * remains. Step names are short and stable: "clone", "write uid_map", "pivot_root",
     * "mount proc", "execve", ... */
    ISO_MSG_FAILED = 102,
    /* payload: struct iso_exit. Sent once, after STARTED, when the main process was reaped. */
    ISO_MSG_EXITED = 103,
    /* id of the offending frame or 0; payload: message text. The helper exits after sending. */
    ISO_MSG_PROTOCOL_ERROR = 199,
};

struct iso_exit {
    int32_t wait_status;    /* as from waitpid() */
    int32_t flags;          /* ISO_EXIT_* */
    int64_t user_cpu_usec;  /* from the rusage of the reaped main process */
    int64_t system_cpu_usec;
    int64_t max_rss_kib;
    /* version 2: from the launch's cgroup, read after the last process left it and before it
     * was removed; valid when flags has ISO_EXIT_HAS_CGROUP, and then -1 when the kernel does
     * not tell (memory.peak needs Linux 5.19 on cgroup v2) */
    int64_t memory_peak_bytes;
    int64_t cgroup_cpu_usec;
};

enum {
    ISO_EXIT_HAS_CGROUP = 1,  /* the launch had a cgroup; the cgroup fields are valid */
    ISO_EXIT_OOM_KILLED = 2,  /* the kernel's OOM killer killed a process of the cgroup */
};

/* TLV record inside a LAUNCH payload: uint16 tag, uint16 reserved, uint32 length, value bytes.
 * Strings are NOT NUL-terminated on the wire; length says how long they are. */
struct iso_tlv_header {
    uint16_t tag;
    uint16_t reserved;
    uint32_t length;
};

enum {
    ISO_TLV_ARG = 1,          /* string, repeated in order; the first is the executable path */
    ISO_TLV_ENV = 2,          /* string "NAME=value", repeated */
    ISO_TLV_CWD = 3,          /* string, absolute path inside the sandbox; default "/" */
    ISO_TLV_CLONE_FLAGS = 4,  /* uint64 CLONE_NEW* flags for clone() */
    ISO_TLV_UNSHARE_TIME = 5, /* empty: unshare(CLONE_NEWTIME) before execve */
    ISO_TLV_UID_MAP = 6,      /* string, uid_map contents ("in out count\n" lines) */
    ISO_TLV_GID_MAP = 7,      /* string, gid_map contents */
    ISO_TLV_NEWUIDMAP = 8,    /* string: path of newuidmap; when present, maps are written by
                                 running "newuidmap PID in out count ..." instead of writing
                                 /proc/PID/uid_map directly */
    ISO_TLV_NEWGIDMAP = 9,    /* string: path of newgidmap; likewise for gid_map */
    ISO_TLV_SETGROUPS_DENY = 10, /* empty: write "deny" to /proc/PID/setgroups before gid_map */
    ISO_TLV_ROOTFS = 11,      /* string: host path of the root filesystem. Absent: host root */
    ISO_TLV_ROOT_WRITABLE = 12, /* empty: do not make the root read-only */
    ISO_TLV_MOUNT = 13,       /* uint32 kind (ISO_MOUNT_*), uint32 flags (ISO_MOUNTF_*),
                                 uint64 size (tmpfs bytes, 0 = default),
                                 then source NUL, destination NUL (destination inside sandbox) */
    ISO_TLV_HOSTNAME = 14,    /* string */
    ISO_TLV_RUN_AS = 15,      /* uint32 uid, uint32 gid inside the sandbox: setresgid/setgroups/
                                 setresuid before execve */
    ISO_TLV_CGROUP_PROCS = 16, /* string: a host path of a cgroup.procs file the process is
                                  written to before it may run (repeated) */
    ISO_TLV_INIT = 17,        /* empty: a minimal init runs as PID 1 (reaps, forwards signals,
                                 exits with the command's status); the command is its child */

    /* Resource limits (version 2). When any is present the helper creates one cgroup for the
     * launch under the library's parent (ISO_TLV_CG_PARENT), sets the limits, puts the process
     * in it before it may run, and removes it after the launch ended (also after failures and
     * kills; what still runs in it when the main process is reaped is killed). */
    ISO_TLV_CG_MEMORY_MAX = 20, /* uint64 bytes */
    ISO_TLV_CG_SWAP_MAX = 21,   /* uint64 bytes of swap allowed beyond the memory limit (default 0) */
    ISO_TLV_CG_PIDS_MAX = 22,   /* uint64 tasks */
    ISO_TLV_CG_CPU_QUOTA = 23,  /* uint64 quota_us, uint64 period_us */
    ISO_TLV_CG_CPU_WEIGHT = 24, /* uint64, 1..10000 (cgroup v2 scale; mapped to cpu.shares on v1) */
    ISO_TLV_CG_PARENT = 25,     /* uint32 roles (ISO_CG_*), then the host path of a directory
                                   (not NUL-terminated) in which the launch's cgroup is created as
                                   "<helper pid>-<launch id>-<inode of the helper's pid
                                   namespace>". Repeated: one per hierarchy (v1), or
                                   one with ISO_CG_UNIFIED (v2). Chosen and prepared by the JVM
                                   (created; on v2 with the controllers enabled in its
                                   cgroup.subtree_control). Required by any ISO_TLV_CG_* limit. */

    /* Join (version 2), see ISO_MSG_JOIN */
    ISO_TLV_JOIN_LAUNCH = 30,     /* uint64 id of a running launch of this helper */
    ISO_TLV_JOIN_PID = 31,        /* int32 host pid of any process to join (nsenter --target) */
    ISO_TLV_JOIN_NAMESPACES = 32, /* uint64 CLONE_NEW* mask of the namespaces to enter; absent:
                                     all the target has that differ from the helper's; root
                                     and working directory follow the mount namespace */
};

/* What an ISO_TLV_CG_PARENT directory is for. */
enum {
    ISO_CG_UNIFIED = 1,  /* cgroup v2: every controller, the only parent */
    ISO_CG_MEMORY = 2,   /* cgroup v1 hierarchies with these controllers (a co-mounted */
    ISO_CG_PIDS = 4,     /* "cpu,cpuacct" hierarchy has both CPU roles) */
    ISO_CG_CPU = 8,
    ISO_CG_CPUACCT = 16,
    ISO_CG_FREEZER = 32, /* v1 freezer: no limit; lets destroy freeze the sandbox to kill it */
};

enum {
    ISO_MOUNT_BIND = 1,
    ISO_MOUNT_TMPFS = 2,
};

enum {
    ISO_MOUNTF_READONLY = 1,
};

#endif
