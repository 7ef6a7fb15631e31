/*
 * The cgroup of one launch: resource limits (protocol.h, ISO_TLV_CG_*).
 *
 * The JVM chooses and prepares the parent directories (one per hierarchy on cgroup v1, one on
 * cgroup v2 with the controllers already enabled in its cgroup.subtree_control) and names them
 * in ISO_TLV_CG_PARENT records. For each launch with limits the helper:
 *
 *   1. before clone: creates "<parent>/<helper pid>-<launch id>-<pid namespace inode>" in every
 *      parent and writes the limits there; any failure removes what was created and fails the
 *      launch;
 *   2. after clone: the child moves itself into every cgroup (the launch's cgroup_procs) first
 *      thing once released, through files the helper opened for it, and the helper writes its
 *      pid into any it could not open, before releasing it (launch.c), so the command never
 *      runs outside them;
 *   3. after the main process was reaped: kills whatever is left in the cgroup, waits until it
 *      is empty, reads the final figures (OOM kills, peak memory, CPU time) and removes it.
 *      A removal that keeps failing with EBUSY is retried from the event loop for a while.
 *
 * The name carries the helper's pid so that the JVM can recognise, and remove, the leftovers
 * of a helper that died without cleaning up (only SIGKILL does that to it); and its pid
 * namespace, since helpers in containers that share the host's cgroup tree may have the same
 * pid (and launch ids).
 *
 * Nothing here touches a cgroup that the launch did not create: signals go only to processes
 * listed in the launch's own cgroup, pinned with a pidfd and checked to still be members.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CG_MAX_DIRS 8       /* one per hierarchy: v1 memory, pids, cpu, cpuacct (+ spare) */
#define CG_MAX_DEPTH 16     /* nested cgroups a sandbox may have made below its own */
#define CG_PATH 4200

/* how long the helper waits, blocking, for a killed cgroup to empty before it moves on */
#define CG_DRAIN_MS 2000
/* how long a removal that fails with EBUSY is retried in the background */
#define CG_PENDING_MS 60000
#define CG_PENDING_POLL_MS 50

struct sandbox_cgroup {
    uint64_t id;                /* the launch's */
    struct sandbox_cgroup *next; /* in the list of live launch cgroups */
    size_t count;
    char *dirs[CG_MAX_DIRS];    /* the launch's cgroup directory in each hierarchy */
    uint32_t roles[CG_MAX_DIRS]; /* ISO_CG_* of each */
    char *procs[CG_MAX_DIRS];   /* "<dir>/cgroup.procs" */
    char name[80];              /* "<helper pid>-<launch id>-<pid namespace inode>" */
};

/* Every launch cgroup from creation until it is removed, for launch_cgroup_dir(). */
static struct sandbox_cgroup *live;

static void unlink_live(struct sandbox_cgroup *cg)
{
    for (struct sandbox_cgroup **p = &live; *p; p = &(*p)->next) {
        if (*p == cg) {
            *p = cg->next;
            return;
        }
    }
}

/* ---- small file helpers ------------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int path_join(char *buf, const char *dir, const char *file)
{
    if ((size_t)snprintf(buf, CG_PATH, "%s/%s", dir, file) >= CG_PATH) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Writes `value` to dir/file in one write(); -1 with errno, and the file's path in `path`. */
static int write_value(const char *dir, const char *file, const char *value, char *path)
{
    if (path_join(path, dir, file) < 0)
        return -1;
    return write_whole_file(path, value);
}

/* Reads a small file into buf (NUL-terminated); returns the length or -1 with errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t len = 0;
    while (len < size - 1) {
        ssize_t n = read(fd, buf + len, size - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (ssize_t)len;
}

static bool file_exists(const char *dir, const char *file)
{
    char path[CG_PATH];
    return path_join(path, dir, file) == 0 && access(path, F_OK) == 0;
}

/* The value of "key N" in a flat-keyed file (memory.events, cpu.stat, ...); -1 if absent. */
static int64_t keyed_value(const char *dir, const char *file, const char *key)
{
    char path[CG_PATH], buf[4096];
    if (path_join(path, dir, file) < 0 || read_small(path, buf, sizeof buf) < 0)
        return -1;
    size_t klen = strlen(key);
    for (char *line = buf; *line;) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
            return strtoll(line + klen + 1, NULL, 10);
        char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return -1;
}

/* A file holding one number; -1 if absent or not a number. */
static int64_t single_value(const char *dir, const char *file)
{
    char path[CG_PATH], buf[64];
    if (path_join(path, dir, file) < 0 || read_small(path, buf, sizeof buf) <= 0)
        return -1;
    if (buf[0] < '0' || buf[0] > '9')
        return -1;
    return strtoll(buf, NULL, 10);
}

/* Whether the host has swap in use at all (/proc/swaps lists a device or file). */
static bool swap_active(void)
{
    char buf[512];
    if (read_small("/proc/swaps", buf, sizeof buf) < 0)
        return true; /* unknown: assume it may swap */
    char *nl = strchr(buf, '\n');
    return nl && nl[1] != '\0';
}

/* ---- creation ---------------------------------------------------------------------------- */

static int fail_at(struct exec_status *failure, int err, const char *step, const char *path)
{
    return set_status(failure, err, step, path);
}

/* Writes one limit; on failure fills *failure with step "set FILE" and the path. */
static int set_limit(const char *dir, const char *file, const char *value,
                     struct exec_status *failure)
{
    char path[CG_PATH], step[64];
    if (write_value(dir, file, value, path) == 0)
        return 0;
    int err = errno;
    snprintf(step, sizeof step, "set %s", file);
    return fail_at(failure, err, step, path);
}

static int set_limit_u64(const char *dir, const char *file, uint64_t value,
                         struct exec_status *failure)
{
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return set_limit(dir, file, text, failure);
}

/*
 * cgroup v1 cpu.shares for a cgroup v2 cpu.weight: the linear mapping systemd uses,
 * shares = weight * 1024 / 100, clamped to the kernel's 2..262144. The defaults match
 * (100 -> 1024); 1 -> 10, 10000 -> 102400.
 */
uint64_t cgroup_weight_to_shares(uint64_t weight)
{
    uint64_t shares = weight * 1024 / 100;
    if (shares < 2)
        shares = 2;
    if (shares > 262144)
        shares = 262144;
    return shares;
}

static int set_unified_limits(const char *dir, const struct cgroup_limits *lim,
                              struct exec_status *failure)
{
    if (lim->has_memory) {
        if (set_limit_u64(dir, "memory.max", lim->memory_max, failure) < 0)
            return -1;
        /* memory.swap.max is swap beyond memory.max: exactly the allowance asked for */
        if (file_exists(dir, "memory.swap.max")) {
            if (set_limit_u64(dir, "memory.swap.max", lim->swap_max, failure) < 0)
                return -1;
        } else if (lim->swap_max > 0 || swap_active()) {
            /* no swap accounting (cgroup.memory=noswap, or no CONFIG_MEMCG_SWAP): the sandbox
             * could swap without bound. Refuse rather than run without the limit. */
            char path[CG_PATH];
            path_join(path, dir, "memory.swap.max");
            return fail_at(failure, ENOENT, "set memory.swap.max", path);
        }
    }
    if (lim->has_pids && set_limit_u64(dir, "pids.max", lim->pids_max, failure) < 0)
        return -1;
    if (lim->has_cpu_quota) {
        char text[48];
        snprintf(text, sizeof text, "%llu %llu", (unsigned long long)lim->cpu_quota_us,
                 (unsigned long long)lim->cpu_period_us);
        if (set_limit(dir, "cpu.max", text, failure) < 0)
            return -1;
    }
    if (lim->has_cpu_weight && set_limit_u64(dir, "cpu.weight", lim->cpu_weight, failure) < 0)
        return -1;
    return 0;
}

static int set_v1_limits(const char *dir, uint32_t roles, const struct cgroup_limits *lim,
                         struct exec_status *failure)
{
    if ((roles & ISO_CG_MEMORY) && lim->has_memory) {
        if (set_limit_u64(dir, "memory.limit_in_bytes", lim->memory_max, failure) < 0)
            return -1;
        /* memsw is memory + swap: the limit plus the swap allowance */
        if (file_exists(dir, "memory.memsw.limit_in_bytes")) {
            if (set_limit_u64(dir, "memory.memsw.limit_in_bytes",
                              lim->memory_max + lim->swap_max, failure) < 0)
                return -1;
        } else if (lim->swap_max > 0) {
            char path[CG_PATH];
            path_join(path, dir, "memory.memsw.limit_in_bytes");
            return fail_at(failure, ENOENT, "set memory.memsw.limit_in_bytes", path);
        } else if (swap_active()) {
            /* no swap accounting (swapaccount=0): with swappiness 0 the memcg's own limit
             * reclaim never swaps, so the sandbox hits its limit instead */
            if (set_limit(dir, "memory.swappiness", "0", failure) < 0)
                return -1;
        }
    }
    if ((roles & ISO_CG_PIDS) && lim->has_pids &&
        set_limit_u64(dir, "pids.max", lim->pids_max, failure) < 0)
        return -1;
    if (roles & ISO_CG_CPU) {
        if (lim->has_cpu_quota) {
            if (set_limit_u64(dir, "cpu.cfs_period_us", lim->cpu_period_us, failure) < 0 ||
                set_limit_u64(dir, "cpu.cfs_quota_us", lim->cpu_quota_us, failure) < 0)
                return -1;
        }
        if (lim->has_cpu_weight &&
            set_limit_u64(dir, "cpu.shares", cgroup_weight_to_shares(lim->cpu_weight), failure) < 0)
            return -1;
    }
    return 0;
}

static void free_cgroup(struct sandbox_cgroup *cg)
{
    unlink_live(cg);
    for (size_t i = 0; i < cg->count; i++) {
        free(cg->dirs[i]);
        free(cg->procs[i]);
    }
    free(cg);
}

/* The inode of the helper's pid namespace (0 if unknown), for unique cgroup names. */
static unsigned long long pid_namespace(void)
{
    static unsigned long long ino = ~0ull;
    if (ino == ~0ull) {
        struct stat st;
        ino = stat("/proc/self/ns/pid", &st) == 0 ? (unsigned long long)st.st_ino : 0;
    }
    return ino;
}

/* Makes and limits the cgroup named after `id` in every parent; not yet in the live list. */
static int make_cgroup(const struct launch_spec *spec, uint64_t id, struct sandbox_cgroup **out,
                       struct exec_status *failure)
{
    *out = NULL;
    if (spec->cgroup_parent_count > CG_MAX_DIRS)
        return fail_at(failure, EINVAL, "create cgroup", "too many cgroup parents");
    struct sandbox_cgroup *cg = calloc(1, sizeof *cg);
    if (!cg)
        return fail_at(failure, ENOMEM, "create cgroup", "");
    snprintf(cg->name, sizeof cg->name, "%ld-%llu-%llu", (long)getpid(), (unsigned long long)id,
             pid_namespace());

    for (size_t i = 0; i < spec->cgroup_parent_count; i++) {
        const struct cgroup_parent *p = &spec->cgroup_parents[i];
        char dir[CG_PATH], procs[CG_PATH];
        if ((size_t)snprintf(dir, sizeof dir, "%s/%s", p->path, cg->name) >= sizeof dir ||
            path_join(procs, dir, "cgroup.procs") < 0) {
            fail_at(failure, ENAMETOOLONG, "create cgroup", p->path);
            goto undo;
        }
        if (mkdir(dir, 0755) < 0) {
            fail_at(failure, errno, "create cgroup", dir);
            goto undo;
        }
        cg->dirs[cg->count] = strdup(dir);
        cg->procs[cg->count] = strdup(procs);
        cg->roles[cg->count] = p->roles;
        cg->count++;
        if (!cg->dirs[cg->count - 1] || !cg->procs[cg->count - 1]) {
            fail_at(failure, ENOMEM, "create cgroup", dir);
            goto undo;
        }
    }
    for (size_t i = 0; i < cg->count; i++) {
        int rc = (cg->roles[i] & ISO_CG_UNIFIED)
                     ? set_unified_limits(cg->dirs[i], &spec->limits, failure)
                     : set_v1_limits(cg->dirs[i], cg->roles[i], &spec->limits, failure);
        if (rc < 0)
            goto undo;
    }
    cg->id = id;
    *out = cg;
    return 0;

undo:
    /* nothing ever ran in them: plain rmdir */
    for (size_t i = 0; i < cg->count; i++)
        if (cg->dirs[i])
            rmdir(cg->dirs[i]);
    free_cgroup(cg);
    return -1;
}

/*
 * One cgroup made ahead, like the prepared sandboxes (prepared.c): after a launch with limits,
 * while the helper is idle, the cgroup for the next launch with the same parents and limits is
 * created and limited, so that launch only has to join it. Named like a launch's, with an id
 * from a range launches do not use; removed when unused for CG_READY_MS and at shut-down.
 * A spare may wait inside it (ready_holder, see prepared.c): then only the launch that takes
 * this cgroup takes that spare, and dropping the cgroup kills the spare first.
 */
#define CG_READY_MS 5000
#define CG_READY_IDS (1ULL << 62)

struct cgroup_key {
    size_t count;
    uint32_t roles[CG_MAX_DIRS];
    char *paths[CG_MAX_DIRS];
    struct cgroup_limits limits;
};

static struct sandbox_cgroup *ready; /* made ahead, not in the live list */
static pid_t ready_holder;           /* a spare moved into `ready` ahead (prepared.c); 0: none */
static struct cgroup_key ready_key, wanted_key; /* wanted_key.count == 0: none wanted */
static int64_t ready_made_ms;
static uint64_t ready_ids = CG_READY_IDS;

static bool same_limits(const struct cgroup_limits *a, const struct cgroup_limits *b)
{
    return a->has_memory == b->has_memory && a->has_pids == b->has_pids &&
           a->has_cpu_quota == b->has_cpu_quota && a->has_cpu_weight == b->has_cpu_weight &&
           a->memory_max == b->memory_max && a->swap_max == b->swap_max && a->pids_max == b->pids_max &&
           a->cpu_quota_us == b->cpu_quota_us && a->cpu_period_us == b->cpu_period_us &&
           a->cpu_weight == b->cpu_weight;
}

static bool key_matches(const struct cgroup_key *key, const struct launch_spec *spec)
{
    if (key->count != spec->cgroup_parent_count || !same_limits(&key->limits, &spec->limits))
        return false;
    for (size_t i = 0; i < key->count; i++)
        if (key->roles[i] != spec->cgroup_parents[i].roles || strcmp(key->paths[i], spec->cgroup_parents[i].path) != 0)
            return false;
    return true;
}

static void free_key(struct cgroup_key *key)
{
    for (size_t i = 0; i < key->count; i++)
        free(key->paths[i]);
    memset(key, 0, sizeof *key);
}

static bool copy_key(struct cgroup_key *key, const struct launch_spec *spec)
{
    memset(key, 0, sizeof *key);
    key->limits = spec->limits;
    for (size_t i = 0; i < spec->cgroup_parent_count; i++) {
        key->roles[i] = spec->cgroup_parents[i].roles;
        key->paths[i] = strdup(spec->cgroup_parents[i].path);
        key->count = i + 1;
        if (!key->paths[i]) {
            free_key(key);
            return false;
        }
    }
    return true;
}

/* The part of a launch spec make_cgroup reads. */
static void spec_of_key(const struct cgroup_key *key, struct launch_spec *spec, struct cgroup_parent *parents)
{
    memset(spec, 0, sizeof *spec);
    for (size_t i = 0; i < key->count; i++)
        parents[i] = (struct cgroup_parent){.roles = key->roles[i], .path = key->paths[i]};
    spec->cgroup_parents = parents;
    spec->cgroup_parent_count = key->count;
    spec->limits = key->limits;
}

static void remove_and_free(struct sandbox_cgroup *cg);

/* Removes the cgroup made ahead. A spare in it is killed and reaped first, unless
 * `holder_reaped` says it is gone already (it cannot be signalled then: its pid may be reused). */
static void drop_ready(bool holder_reaped)
{
    if (!ready)
        return;
    pid_t holder = ready_holder;
    ready_holder = 0; /* before prepared_discard, whose drop() calls cgroup_ready_release */
    if (holder && !holder_reaped)
        prepared_discard(holder);
    if (holder) {
        remove_and_free(ready); /* its member may still be on its way out */
    } else {
        for (size_t i = 0; i < ready->count; i++)
            rmdir(ready->dirs[i]); /* nothing ever ran in it */
        free_cgroup(ready);
    }
    ready = NULL;
    free_key(&ready_key);
}

pid_t cgroup_ready_holder(const struct launch_spec *spec)
{
    return ready && key_matches(&ready_key, spec) ? ready_holder : 0;
}

bool cgroup_ready_unheld(void)
{
    return ready && ready_holder == 0;
}

pid_t cgroup_ready_held_by(void)
{
    return ready_holder;
}

size_t cgroup_ready_procs(const char **procs, size_t max)
{
    if (!ready || ready_holder)
        return 0;
    size_t n = ready->count < max ? ready->count : max;
    for (size_t i = 0; i < n; i++)
        procs[i] = ready->procs[i];
    return n;
}

bool cgroup_ready_hold(pid_t pid, uint32_t moved_mask)
{
    if (!ready || ready_holder)
        return false;
    char pidbuf[24];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)pid);
    ready_holder = pid; /* also when the move fails half-way: dropping then kills and reaps it */
    for (size_t i = 0; i < ready->count; i++) {
        if (cgroup_in_mask(moved_mask, i))
            continue;
        if (write_whole_file(ready->procs[i], pidbuf) < 0) {
            drop_ready(false);
            return false;
        }
    }
    return true;
}

void cgroup_ready_release(pid_t pid)
{
    if (ready && ready_holder == pid)
        drop_ready(true);
}

void cgroup_ready_discard(void)
{
    drop_ready(false);
}

int cgroup_create(const struct launch_spec *spec, uint64_t id, struct sandbox_cgroup **out,
                  struct exec_status *failure)
{
    *out = NULL;
    if (spec->cgroup_parent_count == 0)
        return 0;
    struct sandbox_cgroup *cg = NULL;
    if (ready && key_matches(&ready_key, spec)) {
        cg = ready;
        ready = NULL;
        ready_holder = 0; /* the launch's now (helper.c hands it its holder) */
        free_key(&ready_key);
        cg->id = id; /* found by the launch's id from now on; the name keeps the other */
    } else if (make_cgroup(spec, id, &cg, failure) < 0) {
        return -1;
    }
    cg->next = live;
    live = cg;
    *out = cg;
    if (wanted_key.count == 0)
        copy_key(&wanted_key, spec); /* on failure none is wanted */
    return 0;
}

int cgroup_ready_timeout(void)
{
    if (wanted_key.count > 0)
        return 0;
    if (!ready)
        return -1;
    int64_t left = ready_made_ms + CG_READY_MS - monotonic_ms();
    return left < 0 ? 0 : (int)left + 1;
}

void cgroup_ready_tick(bool idle)
{
    if (ready && monotonic_ms() - ready_made_ms >= CG_READY_MS)
        drop_ready(false);
    if (!idle || wanted_key.count == 0)
        return;
    drop_ready(false); /* the shape launched last wins */
    struct launch_spec spec;
    struct cgroup_parent parents[CG_MAX_DIRS];
    spec_of_key(&wanted_key, &spec, parents);
    struct exec_status ignored;
    if (make_cgroup(&spec, ready_ids++, &ready, &ignored) < 0) {
        ready = NULL;
        free_key(&wanted_key);
        return;
    }
    ready_key = wanted_key;
    memset(&wanted_key, 0, sizeof wanted_key);
    ready_made_ms = monotonic_ms();
}

size_t cgroup_procs_files(const struct sandbox_cgroup *cg, const char **files, size_t max)
{
    if (!files)
        return cg ? cg->count : 0;
    size_t n = 0;
    for (size_t i = 0; cg && i < cg->count && n < max; i++)
        files[n++] = cg->procs[i];
    return n;
}

static const char *dir_with(const struct sandbox_cgroup *cg, uint32_t role)
{
    for (size_t i = 0; cg && i < cg->count; i++)
        if (cg->roles[i] & (role | ISO_CG_UNIFIED))
            return cg->dirs[i];
    return "";
}

const char *cgroup_memory_dir(const struct sandbox_cgroup *cg)
{
    return dir_with(cg, ISO_CG_MEMORY);
}

const char *cgroup_cpu_dir(const struct sandbox_cgroup *cg)
{
    return dir_with(cg, ISO_CG_CPUACCT);
}

/*
 * Overrides the weak default in stop.c: the directory to signal every member of launch `id`
 * through: the v2 cgroup, else the v1 freezer one (the members can be frozen), else any v1
 * one (each lists every member). NULL when the launch has no cgroup of its own.
 */
const char *launch_cgroup_dir(uint64_t id);
const char *launch_cgroup_dir(uint64_t id)
{
    for (struct sandbox_cgroup *cg = live; cg; cg = cg->next) {
        if (cg->id != id)
            continue;
        for (size_t i = 0; i < cg->count; i++)
            if (cg->roles[i] & (ISO_CG_UNIFIED | ISO_CG_FREEZER))
                return cg->dirs[i];
        return cg->count ? cg->dirs[0] : NULL;
    }
    return NULL;
}

/* ---- members ----------------------------------------------------------------------------- */

/* Whether /proc/PID/cgroup still places pid in (or below) this launch's cgroup. */
static bool still_member(pid_t pid, const char *name)
{
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
    if (read_small(path, buf, sizeof buf) < 0)
        return false;
    size_t nlen = strlen(name);
    for (char *p = buf; (p = strstr(p, name)) != NULL; p += nlen) {
        if (p > buf && p[-1] == '/' && (p[nlen] == '\n' || p[nlen] == '/' || p[nlen] == '\0'))
            return true;
    }
    return false;
}

/* Signals one member, pinned by a pidfd so that a recycled pid is never hit. */
static void signal_member(pid_t pid, int sig, const char *name)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0 && errno != ENOSYS)
        return; /* gone */
    if (!still_member(pid, name)) {
        if (pidfd >= 0)
            close(pidfd);
        return;
    }
    if (pidfd >= 0) {
        syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
        close(pidfd);
    } else {
        kill(pid, sig); /* kernel < 5.3: checked membership just before */
    }
}

/*
 * Signals every process listed in dir's cgroup.procs and below. Returns how many processes
 * were listed (0: the subtree is empty as far as cgroup.procs tells), or -1 if unreadable.
 */
static int signal_tree(const char *dir, int sig, const char *name, int depth)
{
    char path[CG_PATH];
    if (path_join(path, dir, "cgroup.procs") < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int listed = 0;
    char buf[4096];
    long pid = 0;
    bool digits = false;
    ssize_t n;
    /* one pid per line; a pid may straddle two reads */
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = pid * 10 + (buf[i] - '0');
                digits = true;
            } else if (buf[i] == '\n' && digits) {
                /* "0" is a member outside our pid namespace: counted, not signalled */
                listed++;
                if (sig && pid > 0)
                    signal_member((pid_t)pid, sig, name);
                pid = 0;
                digits = false;
            }
        }
    }
    close(fd);

    if (depth < CG_MAX_DEPTH) {
        DIR *d = opendir(dir);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                    continue;
                char sub[CG_PATH];
                if (path_join(sub, dir, e->d_name) == 0) {
                    int more = signal_tree(sub, sig, name, depth + 1);
                    if (more > 0)
                        listed += more;
                }
            }
            closedir(d);
        }
    }
    return listed;
}

void cgroup_signal_all(const struct sandbox_cgroup *cg, int sig)
{
    if (!cg)
        return;
    for (size_t i = 0; i < cg->count; i++) {
        /* cgroup v2 on Linux 5.14+: the kernel kills the whole subtree at once, forks in
         * flight included */
        if (sig == SIGKILL && (cg->roles[i] & ISO_CG_UNIFIED)) {
            char path[CG_PATH];
            if (write_value(cg->dirs[i], "cgroup.kill", "1", path) == 0)
                continue;
        }
        signal_tree(cg->dirs[i], sig, cg->name, 0);
    }
}

/* Whether any process is still in the launch's cgroup (or below it). */
static bool populated(const struct sandbox_cgroup *cg)
{
    for (size_t i = 0; i < cg->count; i++) {
        if (cg->roles[i] & ISO_CG_UNIFIED) {
            int64_t v = keyed_value(cg->dirs[i], "cgroup.events", "populated");
            if (v == 0)
                continue;
            if (v > 0)
                return true;
        }
        if (signal_tree(cg->dirs[i], 0, cg->name, 0) > 0)
            return true;
    }
    return false;
}

/* Kills what is left in the cgroup and waits (bounded) until the kernel lists nobody. */
static void drain(const struct sandbox_cgroup *cg)
{
    if (!populated(cg))
        return;
    int64_t deadline = monotonic_ms() + CG_DRAIN_MS;
    long pause = 1;
    for (;;) {
        cgroup_signal_all(cg, SIGKILL);
        sleep_ms(pause);
        if (!populated(cg) || monotonic_ms() > deadline)
            return;
        if (pause < 20)
            pause *= 2;
    }
}

/* ---- removal ----------------------------------------------------------------------------- */

/* rmdir of dir and of any cgroup the sandbox made below it, deepest first. */
static int remove_tree(const char *dir, int depth)
{
    if (depth < CG_MAX_DEPTH) {
        DIR *d = opendir(dir);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (e->d_type != DT_DIR || e->d_name[0] == '.')
                    continue;
                char sub[CG_PATH];
                if (path_join(sub, dir, e->d_name) == 0)
                    remove_tree(sub, depth + 1);
            }
            closedir(d);
        }
    }
    if (rmdir(dir) == 0 || errno == ENOENT)
        return 0;
    return -1;
}

struct pending {
    char *dir;
    int64_t give_up_at;
};
static struct pending *pendings;
static size_t pending_count, pending_capacity;

static void defer_removal(char *dir)
{
    if (pending_count == pending_capacity) {
        size_t cap = pending_capacity ? pending_capacity * 2 : 8;
        struct pending *grown = realloc(pendings, cap * sizeof *grown);
        if (!grown) {
            free(dir); /* left behind; the next helper's start removes it */
            return;
        }
        pendings = grown;
        pending_capacity = cap;
    }
    pendings[pending_count++] = (struct pending){dir, monotonic_ms() + CG_PENDING_MS};
}

/* Removes the directories (briefly retrying EBUSY while tasks are still dying), then frees. */
static void remove_and_free(struct sandbox_cgroup *cg)
{
    for (size_t i = 0; i < cg->count; i++) {
        int err = EBUSY;
        for (int attempt = 0; attempt < 10 && err == EBUSY; attempt++) {
            if (remove_tree(cg->dirs[i], 0) == 0)
                err = 0;
            else if ((err = errno) == EBUSY)
                sleep_ms(attempt < 5 ? 1 : 5);
        }
        if (err == EBUSY) {
            defer_removal(cg->dirs[i]);
            cg->dirs[i] = NULL;
        }
    }
    free_cgroup(cg);
}

int cgroup_pending_timeout(void)
{
    return pending_count ? CG_PENDING_POLL_MS : -1;
}

void cgroup_retry_pending(void)
{
    int64_t now = monotonic_ms();
    for (size_t i = 0; i < pending_count;) {
        if (remove_tree(pendings[i].dir, 0) == 0 || errno != EBUSY || now > pendings[i].give_up_at) {
            free(pendings[i].dir);
            pendings[i] = pendings[--pending_count];
        } else {
            i++;
        }
    }
}

/* ---- the end of a launch ----------------------------------------------------------------- */

static void read_final_figures(const struct sandbox_cgroup *cg, struct iso_exit *ex)
{
    ex->flags |= ISO_EXIT_HAS_CGROUP;
    ex->memory_peak_bytes = -1;
    ex->cgroup_cpu_usec = -1;
    for (size_t i = 0; i < cg->count; i++) {
        const char *dir = cg->dirs[i];
        if (cg->roles[i] & ISO_CG_UNIFIED) {
            /* oom_kill: Linux 4.13+; memory.peak: 5.19+; cpu.stat exists without the cpu
             * controller too */
            if (keyed_value(dir, "memory.events", "oom_kill") > 0)
                ex->flags |= ISO_EXIT_OOM_KILLED;
            ex->memory_peak_bytes = single_value(dir, "memory.peak");
            int64_t usec = keyed_value(dir, "cpu.stat", "usage_usec");
            if (usec >= 0)
                ex->cgroup_cpu_usec = usec;
            continue;
        }
        if (cg->roles[i] & ISO_CG_MEMORY) {
            /* the oom_kill line of memory.oom_control: Linux 4.13+ */
            if (keyed_value(dir, "memory.oom_control", "oom_kill") > 0)
                ex->flags |= ISO_EXIT_OOM_KILLED;
            ex->memory_peak_bytes = single_value(dir, "memory.max_usage_in_bytes");
        }
        if (cg->roles[i] & ISO_CG_CPUACCT) {
            int64_t nsec = single_value(dir, "cpuacct.usage");
            if (nsec >= 0)
                ex->cgroup_cpu_usec = nsec / 1000;
        }
    }
}

void cgroup_finish(const struct sandbox_cgroup *cg, struct iso_exit *ex)
{
    if (!cg)
        return;
    drain(cg);
    read_final_figures(cg, ex);
}

void cgroup_destroy(struct sandbox_cgroup *cg)
{
    if (!cg)
        return;
    drain(cg);
    remove_and_free(cg);
}

void cgroup_shutdown(void)
{
    drop_ready(true); /* every child is reaped by now */
    /* one last round for removals still pending: the helper is about to exit */
    for (size_t i = 0; i < pending_count; i++) {
        for (int attempt = 0; attempt < 20; attempt++) {
            if (remove_tree(pendings[i].dir, 0) == 0 || errno != EBUSY)
                break;
            sleep_ms(5);
        }
    }
}
