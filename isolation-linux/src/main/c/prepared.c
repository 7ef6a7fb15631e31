/*
 * Prepared sandboxes: after a launch, while the event loop has nothing else to do, the helper
 * clones a spare child of the same shape (namespace flags, id maps) for the next launch. The
 * spare gets its user and pid namespaces and id maps from here, then makes its network, UTS
 * and IPC namespaces itself, and waits. A launch of that shape joins it to its cgroups and
 * sends it the LAUNCH payload and fds; it goes on exactly like a freshly cloned child.
 *
 * When the launch that wanted the spare had a rootfs entered in place, the spare also builds
 * that launch's root ahead (PREPARED_ROOT): its mount namespace, mounts, pivot_root and the
 * detach of the host's tree, whose RCU grace period is the longest wait of a launch and the
 * most variable one. The next launch takes such a spare only if nothing it depends on changed
 * in between, so that it sees exactly what a fresh clone would:
 *   - the root-relevant part of its spec (root_key) is the same;
 *   - no mount or unmount happened in the helper's mount namespace (/proc/self/mountinfo
 *     polls POLLPRI on any change), nor in the spare's own (a host unlink can detach a mount
 *     point there);
 *   - every host path it pinned (rootfs, bind sources, device nodes) still resolves to the
 *     same inode. The spare holds what it pinned, so an inode number cannot be reused.
 * Otherwise the spare is killed and the launch goes the direct way.
 *
 * The clone, the map writes and the namespaces (a network namespace alone is about 0.4 ms of
 * kernel time) thus leave the launch's critical path. Every namespace is still new for each
 * sandbox: a spare serves one launch and is never reused.
 *
 * Launches with limits: once the helper has been idle for PREPARED_HOLD_IDLE_MS, a spare of
 * the last such launch's shape is moved into the cgroup made ahead for the next one (cgroup.c),
 * and only a launch that takes that cgroup may take that spare, once the spare has answered
 * that it is inside (waiting PREPARED_JOIN_WAIT_MS at most): a spare whose move failed, or has
 * not finished, is killed with that cgroup and the launch goes the direct way. Moving a process between
 * cgroups can wait for an RCU grace period when no move happened for a while (5-15 ms
 * measured), which then fell on the first launch after a pause; now it falls on idle time. A
 * stream of launches is not held up by such a move: its own moves follow each other closely
 * and are quick.
 *
 * At most PREPARED_MAX spares exist. Each launch tops those of its shape up to
 * PREPARED_PER_SHAPE (two launching threads each find one), not counting a held one, which
 * serves only a launch with limits; one unused for PREPARED_IDLE_MS is killed, and all die with the
 * helper (PDEATHSIG, and the helper's shut-down kills every child). A spare that cannot be
 * made is simply not there: the launch goes the direct way and reports its own failure.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolation.h"

#define PREPARED_MAX 4
#define PREPARED_PER_SHAPE 2
#define PREPARED_IDLE_MS 5000
#define PREPARED_HOLD_IDLE_MS 20
#define PREPARED_HOLD_RECHECK_MS 5
#define PREPARED_JOIN_WAIT_MS 250

/* What a spare is made for: everything the helper does to a child before releasing it, and
 * optionally the launch whose root it builds ahead. */
struct shape {
    uint64_t clone_flags;
    bool setgroups_deny;
    char *uid_map, *gid_map, *newuidmap, *newgidmap; /* NULL: none */
    uint8_t *root_payload; /* NULL: no root ahead; else that launch's payload ... */
    uint32_t root_len;
    char *root_key;        /* ... and its root_key() */
    size_t root_key_len;
};

struct spare {
    struct shape shape;
    pid_t pid;
    int channel;   /* our end of its socketpair: "go" once mapped, then the launch */
    int status_fd; /* the helper's end of its exec-status socket */
    int64_t made_ms;
    /* with a root built ahead (shape.root_payload) */
    uint64_t mount_generation; /* the helper's, before the spare copied its mount namespace */
    int watch_fd;              /* its /proc/self/mountinfo once its root is built, else -1 */
    struct prepared_ready pinned; /* what it reported then */
    bool joined; /* it answered PREPARED_JOINED: it is inside the cgroup made ahead */
};

static int max_spares = PREPARED_MAX;
static struct spare spares[PREPARED_MAX];
static size_t spare_count;
static struct shape wanted[PREPARED_MAX];
static size_t wanted_count;
static struct shape hold_shape; /* of the last launch with a cgroup; clone_flags 0: none */

/* Whether the spare waits inside the cgroup made ahead (cgroup.c keeps which one does). */
static bool held(const struct spare *s)
{
    return s->pid == cgroup_ready_held_by();
}

void prepared_configure(int max_count)
{
    max_spares = max_count < 0 ? 0 : max_count > PREPARED_MAX ? PREPARED_MAX : max_count;
}

/* ---- shapes ------------------------------------------------------------------------------ */

static bool same_text(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static bool has_shape(const struct shape *shape, const struct launch_spec *spec)
{
    return shape->clone_flags == spec->clone_flags && shape->setgroups_deny == spec->setgroups_deny &&
           same_text(shape->uid_map, spec->uid_map) && same_text(shape->gid_map, spec->gid_map) &&
           same_text(shape->newuidmap, spec->newuidmap) && same_text(shape->newgidmap, spec->newgidmap);
}

static void free_shape(struct shape *shape)
{
    free(shape->uid_map);
    free(shape->gid_map);
    free(shape->newuidmap);
    free(shape->newgidmap);
    free(shape->root_payload);
    free(shape->root_key);
    memset(shape, 0, sizeof *shape);
}

static bool copy_text(char **out, const char *text)
{
    *out = text ? strdup(text) : NULL;
    return text == NULL || *out != NULL;
}

static bool copy_shape(struct shape *out, const struct launch_spec *spec)
{
    memset(out, 0, sizeof *out);
    out->clone_flags = spec->clone_flags;
    out->setgroups_deny = spec->setgroups_deny;
    if (copy_text(&out->uid_map, spec->uid_map) && copy_text(&out->gid_map, spec->gid_map) &&
        copy_text(&out->newuidmap, spec->newuidmap) && copy_text(&out->newgidmap, spec->newgidmap))
        return true;
    free_shape(out);
    return false;
}

/* The part of a launch spec that launch_plan and launch_write_maps read. */
static void spec_of_shape(const struct shape *shape, struct launch_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->clone_flags = shape->clone_flags;
    spec->setgroups_deny = shape->setgroups_deny;
    spec->uid_map = shape->uid_map;
    spec->gid_map = shape->gid_map;
    spec->newuidmap = shape->newuidmap;
    spec->newgidmap = shape->newgidmap;
}

/* ---- roots built ahead ------------------------------------------------------------------- */

/* Everything of a spec that setup_root reads besides the shape's flags, as bytes to compare. */
static char *root_key(const struct launch_spec *spec, size_t *len)
{
    size_t size = strlen(spec->rootfs) + 2;
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct mount_spec *m = &spec->mounts[i];
        size += 2 * sizeof(uint32_t) + sizeof(uint64_t) + strlen(m->source ? m->source : "") +
                strlen(m->dest) + 2;
    }
    char *key = malloc(size), *p = key;
    if (!key)
        return NULL;
#define PUT(src, n)             \
    do {                        \
        memcpy(p, (src), (n));  \
        p += (n);               \
    } while (0)
    PUT(spec->rootfs, strlen(spec->rootfs) + 1);
    *p++ = spec->root_writable ? 'w' : 'r';
    for (size_t i = 0; i < spec->mount_count; i++) {
        const struct mount_spec *m = &spec->mounts[i];
        const char *source = m->source ? m->source : "";
        PUT(&m->kind, sizeof m->kind);
        PUT(&m->flags, sizeof m->flags);
        PUT(&m->size, sizeof m->size);
        PUT(source, strlen(source) + 1);
        PUT(m->dest, strlen(m->dest) + 1);
    }
#undef PUT
    *len = (size_t)(p - key);
    return key;
}

/* The helper's /proc/self/mountinfo, which polls POLLPRI after any change of its mount
 * namespace; the count of changes seen so far. */
static int mounts_fd = -1;
static uint64_t mounts_changed;

static bool watching_mounts(void)
{
    if (mounts_fd < 0)
        mounts_fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    return mounts_fd >= 0;
}

/* Whether a mountinfo fd reports a change since it was opened or last polled. */
static bool mounts_changed_since(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLPRI};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLPRI | POLLERR));
}

static uint64_t mount_generation(void)
{
    if (mounts_changed_since(mounts_fd))
        mounts_changed++;
    return mounts_changed;
}

/* Makes `shape` build the root of this launch ahead, when its spec allows (else no root). */
static void set_root(struct shape *shape, const struct launch_spec *spec, const uint8_t *payload,
                     uint32_t len)
{
    free(shape->root_payload);
    free(shape->root_key);
    shape->root_payload = NULL;
    shape->root_key = NULL;
    if (!sandbox_root_preparable(spec) || !watching_mounts())
        return;
    shape->root_key = root_key(spec, &shape->root_key_len);
    shape->root_payload = malloc(len ? len : 1);
    if (!shape->root_key || !shape->root_payload) {
        free(shape->root_key);
        free(shape->root_payload);
        shape->root_key = NULL;
        shape->root_payload = NULL;
        return;
    }
    memcpy(shape->root_payload, payload, len);
    shape->root_len = len;
}

enum readiness { NOT_YET, READY, BROKEN };

/* Takes a spare's struct prepared_ready if it came; never blocks. */
static enum readiness check_ready(struct spare *s)
{
    if (s->watch_fd >= 0)
        return READY;
    int fd = -1, nfds = 0;
    ssize_t n = recv_with_fds(s->channel, &s->pinned, sizeof s->pinned, MSG_DONTWAIT, &fd, 1, &nfds);
    if (n < 0 && errno == EAGAIN)
        return NOT_YET;
    if (n < (ssize_t)prepared_ready_size(0) || s->pinned.id_count > PREPARED_IDS_MAX || nfds != 1 ||
        (size_t)n != prepared_ready_size(s->pinned.id_count)) {
        if (nfds > 0)
            close(fd);
        return BROKEN;
    }
    s->watch_fd = fd;
    return READY;
}

/* Whether a spare's root is what a fresh clone for `spec` would build now (see the top). */
static bool root_still_valid(const struct spare *s, const struct launch_spec *spec,
                             const char *key, size_t key_len)
{
    if (s->shape.root_key_len != key_len || memcmp(s->shape.root_key, key, key_len) != 0)
        return false;
    if (mount_generation() != s->mount_generation || mounts_changed_since(s->watch_fd))
        return false;
    const char *paths[PREPARED_IDS_MAX];
    size_t count = sandbox_host_paths(spec, paths, PREPARED_IDS_MAX);
    if (count != s->pinned.id_count)
        return false;
    for (size_t i = 0; i < count; i++) {
        const struct host_id *id = &s->pinned.ids[i];
        struct stat st;
        if (stat(paths[i], &st) < 0 || st.st_dev != id->dev || st.st_ino != id->ino)
            return false;
    }
    return true;
}

/* Hands the mount namespace a spare sent at once (sandbox.c) to the closers, so that its
 * teardown does not fall on the helper's close; discards anything else it wrote. */
static void release_mount_ns(int status_fd)
{
    for (;;) {
        char discard[64];
        int fd, nfds;
        ssize_t n = recv_with_fds(status_fd, discard, sizeof discard, MSG_DONTWAIT, &fd, 1, &nfds);
        if (nfds > 0)
            teardown_release(fd);
        if (n <= 0)
            return;
    }
}

/* ---- the pool ---------------------------------------------------------------------------- */

/* Removes spares[i] from the pool; with `kill_it`, kills and reaps it first. */
static void drop(size_t i, bool kill_it)
{
    struct spare *s = &spares[i];
    if (kill_it) {
        kill(s->pid, SIGKILL);
        wait_for_child(s->pid, NULL);
    }
    cgroup_ready_release(s->pid); /* if it held that cgroup: reaped by now, the cgroup is empty */
    if (s->watch_fd >= 0)
        close(s->watch_fd);
    close(s->channel);
    release_mount_ns(s->status_fd);
    close(s->status_fd);
    free_shape(&s->shape);
    spares[i] = spares[--spare_count];
}

void prepared_want(const struct launch_spec *spec, const uint8_t *payload, uint32_t len)
{
    if (max_spares == 0)
        return;
    size_t have = 0;
    for (size_t i = 0; i < spare_count; i++)
        if (has_shape(&spares[i].shape, spec) && !held(&spares[i]))
            have++;
    for (size_t i = 0; i < wanted_count; i++) {
        if (has_shape(&wanted[i], spec)) {
            set_root(&wanted[i], spec, payload, len); /* the newest launch is the likeliest next */
            have++;
        }
    }
    /* topped up, so that a launch that found none leaves two (a held one serves limits only) */
    while (have < PREPARED_PER_SHAPE && wanted_count < PREPARED_MAX && copy_shape(&wanted[wanted_count], spec)) {
        set_root(&wanted[wanted_count], spec, payload, len);
        wanted_count++;
        have++;
    }
}

/* Sends a spare one message: a header, the fds with it, then the payload. */
static int send_message(int channel, uint32_t kind, const uint8_t *payload, uint32_t len,
                        const char *tasks, uint32_t tasks_len, const int *fds, int nfds)
{
    struct prepared_header header = {.launch_id = trace_launch_id, .length = len, .fd_count = (uint32_t)nfds,
                                     .kind = kind, .tasks_len = tasks_len};
    if (send_with_fds(channel, &header, sizeof header, fds, nfds, 0) != (ssize_t)sizeof header)
        return -1;
    if (write_all(channel, payload, len) < 0)
        return -1;
    return tasks_len ? write_all(channel, tasks, tasks_len) : 0;
}

/* Clones a spare of `shape`; false if that failed at any step (nothing is left of it). */
static bool make_spare(const struct shape *shape, struct spare *out)
{
    struct launch_spec spec;
    spec_of_shape(shape, &spec);
    struct sandbox_plan plan;
    launch_plan(&spec, &plan);

    int channel[2], status[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) < 0)
        return false;
    if (status_channel(status) < 0) {
        close(channel[0]);
        close(channel[1]);
        return false;
    }
    /* fork-like raw clone, as in launch_start */
    long pid = syscall(SYS_clone, (unsigned long)plan.clone_flags | SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0)
        sandbox_prepared_main(&plan, channel[1], status[1]);
    close(channel[1]);
    close(status[1]);
    struct exec_status ignored;
    /* before the spare copies the mount namespace: a change from here on voids its root */
    uint64_t generation = shape->root_payload ? mount_generation() : 0;
    if (pid < 0 || launch_write_maps(&spec, (pid_t)pid, &ignored) < 0 ||
        write_all(channel[0], "g", 1) < 0 || fcntl(status[0], F_SETFL, O_NONBLOCK) < 0 ||
        (shape->root_payload &&
         send_message(channel[0], PREPARED_ROOT, shape->root_payload, shape->root_len, NULL, 0, NULL, 0) < 0)) {
        if (pid > 0) {
            kill((pid_t)pid, SIGKILL);
            wait_for_child((pid_t)pid, NULL);
        }
        close(channel[0]);
        close(status[0]);
        return false;
    }
    *out = (struct spare){.pid = (pid_t)pid, .channel = channel[0], .status_fd = status[0],
                          .made_ms = monotonic_ms(), .mount_generation = generation,
                          .watch_fd = -1};
    return true;
}

int prepared_timeout(void)
{
    if (wanted_count > 0)
        return 0;
    if (spare_count == 0)
        return -1;
    int64_t first = spares[0].made_ms;
    for (size_t i = 1; i < spare_count; i++)
        if (spares[i].made_ms < first)
            first = spares[i].made_ms;
    int64_t left = first + PREPARED_IDLE_MS - monotonic_ms();
    return left < 0 ? 0 : (int)left + 1;
}

void prepared_tick(bool idle)
{
    int64_t now = monotonic_ms();
    for (size_t i = 0; i < spare_count;) {
        if (now - spares[i].made_ms >= PREPARED_IDLE_MS)
            drop(i, true);
        else
            i++;
    }
    if (!idle || wanted_count == 0)
        return;
    struct shape shape = wanted[0];
    wanted[0] = wanted[--wanted_count];
    if (spare_count == (size_t)max_spares) {
        /* make room: the oldest goes */
        size_t oldest = 0;
        for (size_t i = 1; i < spare_count; i++)
            if (held(&spares[oldest]) != held(&spares[i]) ? held(&spares[oldest])
                                                          : spares[i].made_ms < spares[oldest].made_ms)
                oldest = i;
        drop(oldest, true);
    }
    struct spare spare;
    if (!make_spare(&shape, &spare)) {
        free_shape(&shape);
        return;
    }
    spare.shape = shape; /* the pool owns the strings now */
    spares[spare_count++] = spare;
}

void prepared_discard(pid_t pid)
{
    for (size_t i = 0; i < spare_count; i++) {
        if (spares[i].pid == pid) {
            drop(i, true);
            return;
        }
    }
}

void prepared_hold_want(const struct launch_spec *spec)
{
    if (max_spares == 0 || (hold_shape.clone_flags && has_shape(&hold_shape, spec)))
        return;
    free_shape(&hold_shape);
    if (!copy_shape(&hold_shape, spec))
        memset(&hold_shape, 0, sizeof hold_shape);
}

/* Whether a hold is due once the helper is idle: a cgroup made ahead is unheld and a spare of
 * hold_shape exists. */
static bool hold_wanted(void)
{
    if (!hold_shape.clone_flags || !cgroup_ready_unheld())
        return false;
    struct launch_spec spec;
    spec_of_shape(&hold_shape, &spec);
    for (size_t i = 0; i < spare_count; i++)
        if (has_shape(&spares[i].shape, &spec))
            return true;
    return false;
}

/* The spare a hold would move: one of hold_shape whose root, if any, is built (what it builds
 * is not the launch's to pay for), while the cgroup made ahead is unheld. `building` tells
 * whether, failing that, one of the shape is still building its root. */
static struct spare *hold_candidate(bool *building)
{
    *building = false;
    if (!hold_wanted())
        return NULL;
    struct launch_spec spec;
    spec_of_shape(&hold_shape, &spec);
    for (size_t i = 0; i < spare_count; i++) {
        struct spare *s = &spares[i];
        if (!has_shape(&s->shape, &spec))
            continue;
        enum readiness r = s->shape.root_payload ? check_ready(s) : READY;
        if (r == READY)
            return s;
        *building |= r == NOT_YET;
    }
    return NULL;
}

int prepared_hold_timeout(int64_t idle_ms)
{
    if (!hold_wanted())
        return -1;
    if (idle_ms < PREPARED_HOLD_IDLE_MS)
        return (int)(PREPARED_HOLD_IDLE_MS - idle_ms); /* no readiness check while launches flow */
    bool building;
    if (hold_candidate(&building))
        return 0;
    return building ? PREPARED_HOLD_RECHECK_MS : -1; /* a spare's readiness is not polled */
}

void prepared_hold_tick(int64_t idle_ms)
{
    bool building;
    struct spare *s = idle_ms >= PREPARED_HOLD_IDLE_MS ? hold_candidate(&building) : NULL;
    if (!s)
        return;
    /* The spare moves itself, as for a launch (launch_open_tasks_files), so that the helper
     * does not wait on the move; the helper moves it into any it could not open for it. It reads this
     * message before any launch, so it is inside before it runs anything of one. */
    const char *procs[TASKS_FILES_MAX];
    struct launch_spec target;
    memset(&target, 0, sizeof target);
    target.cgroup_procs = procs;
    target.cgroup_count = cgroup_ready_procs(procs, TASKS_FILES_MAX);
    struct tasks_files tasks;
    launch_open_tasks_files(&target, false, &tasks);
    if (tasks.count > 0 &&
        send_message(s->channel, PREPARED_JOIN, NULL, 0, tasks.paths, tasks.paths_len, tasks.fds, tasks.count) < 0)
        tasks.mask = 0; /* it is gone: the helper's own move fails and drops it */
    launch_close_tasks_files(&tasks);
    /* when a move fails, the cgroup is dropped and, through prepared_discard, the spare (it may
     * have been moved part of the way); a spare failing its own move dies, and its reaping
     * drops the cgroup (prepared_reaped) */
    cgroup_ready_hold(s->pid, tasks.mask);
}

/* Whether spare `s` can take a launch of `spec`; `key` is made on demand. NOT_YET: its root
 * is still being built; BROKEN: it never can. */
static enum readiness can_take(struct spare *s, const struct launch_spec *spec, char **key, size_t *key_len)
{
    if (!has_shape(&s->shape, spec))
        return BROKEN;
    if (!s->shape.root_payload)
        return READY;
    enum readiness r = check_ready(s);
    if (r != READY)
        return r;
    if (!*key && sandbox_root_preparable(spec))
        *key = root_key(spec, key_len);
    return *key && root_still_valid(s, spec, *key, *key_len) ? READY : BROKEN;
}

/*
 * Whether held spare `s` has moved itself into the cgroup made ahead. Its answer follows the
 * move at once, so this waits for it, but boundedly: a spare still moving (a move on cgroup
 * v2 can wait for an RCU grace period) or stuck is not worth holding the event loop for. A
 * spare whose move failed has ended: EOF. Either way the launch must not take it: it would run
 * outside its cgroup, or fail with the spare's own failure.
 */
static bool confirm_joined(struct spare *s)
{
    if (s->joined)
        return true;
    struct pollfd pfd = {.fd = s->channel, .events = POLLIN};
    int ready;
    do
        ready = poll(&pfd, 1, PREPARED_JOIN_WAIT_MS);
    while (ready < 0 && errno == EINTR);
    char answer = 0;
    ssize_t n = -1;
    if (ready > 0) {
        do
            n = recv(s->channel, &answer, 1, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
    }
    s->joined = n == 1 && answer == PREPARED_JOINED;
    return s->joined;
}

bool prepared_can_serve(pid_t pid, const struct launch_spec *spec)
{
    for (size_t i = 0; i < spare_count; i++) {
        if (spares[i].pid == pid) {
            if (held(&spares[i]) && !confirm_joined(&spares[i]))
                return false;
            char *key = NULL;
            size_t key_len = 0;
            bool yes = can_take(&spares[i], spec, &key, &key_len) == READY;
            free(key);
            return yes;
        }
    }
    return false;
}

bool prepared_reaped(pid_t pid)
{
    for (size_t i = 0; i < spare_count; i++) {
        if (spares[i].pid == pid) {
            drop(i, false);
            return true;
        }
    }
    return false;
}

/* ---- a launch on a spare ----------------------------------------------------------------- */

int prepared_launch(const struct launch_spec *spec, const uint8_t *payload, uint32_t len,
                    const int stdio[3], pid_t holder, struct launch_started *started)
{
    /* Spares whose root was built for another spec, or went stale, are dropped on the way: no
     * launch could take them. One still building its root is left for the next launch. A spare
     * inside the cgroup made ahead waits for the launch that takes that cgroup. */
    size_t key_len = 0;
    char *key = NULL; /* this launch's root_key(), made when a built root is there to compare */
    pid_t pick = holder;
    bool pick_has_root = false;
    for (size_t i = 0; i < spare_count && !holder;) {
        struct spare *s = &spares[i];
        if (!has_shape(&s->shape, spec) || (s->shape.root_payload && pick_has_root) || held(s)) {
            i++;
            continue;
        }
        if (!s->shape.root_payload) {
            if (!pick)
                pick = s->pid;
            i++;
            continue;
        }
        enum readiness r = can_take(s, spec, &key, &key_len);
        if (r == NOT_YET) {
            i++;
        } else if (r == READY) {
            pick = s->pid;
            pick_has_root = true;
            i++;
        } else {
            drop(i, true);
        }
    }
    free(key);
    size_t i = 0;
    while (i < spare_count && (!pick || spares[i].pid != pick))
        i++;
    if (i == spare_count)
        return -1;

    /* its cgroups before it runs anything of the launch, as for a direct launch (a holder is
     * in them already; the launch took over that cgroup): it moves itself, first thing once it
     * has the launch (launch_open_tasks_files), the helper does any rest */
    struct exec_status ignored;
    int report[2] = {-1, -1};
    int fds[PREPARED_FDS_MAX] = {stdio[0], stdio[1], stdio[2]};
    int nfds = 3;
    if (spec->init && pipe2(report, O_CLOEXEC) < 0) {
        drop(i, true);
        return -1;
    }
    if (spec->init)
        fds[nfds++] = report[1];
    int tasks_from = nfds;
    struct tasks_files tasks = {.mask = 0, .count = 0, .paths_len = 0, .birth_dir = -1};
    if (!holder)
        launch_open_tasks_files(spec, false, &tasks);
    for (int k = 0; k < tasks.count; k++)
        fds[nfds++] = tasks.fds[k];
    if (!holder && launch_join_cgroups(spec, spares[i].pid, tasks.mask, &ignored) < 0) {
        close_fds(report, 2);
        close_fds(fds + tasks_from, nfds - tasks_from);
        drop(i, true);
        return -1;
    }
    /* the spare holds its own mount namespace; this reference must not be the last */
    if (spares[i].watch_fd >= 0) {
        close(spares[i].watch_fd);
        spares[i].watch_fd = -1;
    }
    trace_event(trace_launch_id, "spare"); /* before: the spare may run at once, ahead of the helper */
    int sent = send_message(spares[i].channel, PREPARED_LAUNCH, payload, len, tasks.paths, tasks.paths_len, fds, nfds);
    close_fds(fds + tasks_from, nfds - tasks_from);
    if (sent < 0) {
        /* it died meanwhile; the direct launch will report what goes wrong */
        close_fds(report, 2);
        drop(i, true);
        return -1;
    }
    if (report[1] >= 0)
        close(report[1]);
    started->pid = spares[i].pid;
    started->status_fd = spares[i].status_fd;
    started->sync_fd = spares[i].channel; /* held until the exec outcome, like the sync pipe */
    started->init_fd = report[0];
    free_shape(&spares[i].shape);
    spares[i] = spares[--spare_count];
    return 0;
}
