/*
 * Prepared sandboxes: after a launch, while the event loop has nothing else to do, the helper
 * clones a spare child of the same shape (namespace flags, id maps) for the next launch. The
 * spare gets its user and pid namespaces and id maps from here, then makes its network, UTS
 * and IPC namespaces itself, and waits. A launch of that shape joins it to its cgroups and
 * sends it the LAUNCH payload and fds; it goes on exactly like a freshly cloned child, mount
 * namespace included (copied only now, so host mounts made meanwhile are seen).
 *
 * The clone, the map writes and the namespaces (a network namespace alone is about 0.4 ms of
 * kernel time) thus leave the launch's critical path. Every namespace is still new for each
 * sandbox: a spare serves one launch and is never reused.
 *
 * At most PREPARED_MAX spares exist, one per shape; one unused for PREPARED_IDLE_MS is
 * killed, and all die with the helper (PDEATHSIG, and the helper's shut-down kills every
 * child). A spare that cannot be made is simply not there: the launch goes the direct way and
 * reports its own failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "isolation.h"

#define PREPARED_MAX 4
#define PREPARED_IDLE_MS 5000

/* What a spare is made for: everything the helper does to a child before releasing it. */
struct shape {
    uint64_t clone_flags;
    bool setgroups_deny;
    char *uid_map, *gid_map, *newuidmap, *newgidmap; /* NULL: none */
};

struct spare {
    struct shape shape;
    pid_t pid;
    int channel;   /* our end of its socketpair: "go" once mapped, then the launch */
    int status_fd; /* the helper's end of its exec-status socket */
    int64_t made_ms;
};

static int max_spares = PREPARED_MAX;
static struct spare spares[PREPARED_MAX];
static size_t spare_count;
static struct shape wanted[PREPARED_MAX];
static size_t wanted_count;

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

/* ---- the pool ---------------------------------------------------------------------------- */

/* Removes spares[i] from the pool; with `kill_it`, kills and reaps it first. */
static void drop(size_t i, bool kill_it)
{
    struct spare *s = &spares[i];
    if (kill_it) {
        kill(s->pid, SIGKILL);
        wait_for_child(s->pid, NULL);
    }
    close(s->channel);
    close(s->status_fd);
    free_shape(&s->shape);
    spares[i] = spares[--spare_count];
}

void prepared_want(const struct launch_spec *spec)
{
    if (max_spares == 0)
        return;
    for (size_t i = 0; i < spare_count; i++)
        if (has_shape(&spares[i].shape, spec))
            return;
    for (size_t i = 0; i < wanted_count; i++)
        if (has_shape(&wanted[i], spec))
            return;
    if (wanted_count < PREPARED_MAX && copy_shape(&wanted[wanted_count], spec))
        wanted_count++;
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
    if (pid < 0 || launch_write_maps(&spec, (pid_t)pid, &ignored) < 0 ||
        write_all(channel[0], "g", 1) < 0 || fcntl(status[0], F_SETFL, O_NONBLOCK) < 0) {
        if (pid > 0) {
            kill((pid_t)pid, SIGKILL);
            wait_for_child((pid_t)pid, NULL);
        }
        close(channel[0]);
        close(status[0]);
        return false;
    }
    *out = (struct spare){.pid = (pid_t)pid, .channel = channel[0], .status_fd = status[0],
                          .made_ms = monotonic_ms()};
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
            if (spares[i].made_ms < spares[oldest].made_ms)
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

static int send_launch(int channel, const uint8_t *payload, uint32_t len, const int *fds, int nfds)
{
    struct prepared_header header = {.length = len, .fd_count = (uint32_t)nfds};
    if (send_with_fds(channel, &header, sizeof header, fds, nfds, 0) != (ssize_t)sizeof header)
        return -1;
    return write_all(channel, payload, len);
}

int prepared_launch(const struct launch_spec *spec, const uint8_t *payload, uint32_t len,
                    const int stdio[3], struct launch_started *started)
{
    size_t i = 0;
    while (i < spare_count && !has_shape(&spares[i].shape, spec))
        i++;
    if (i == spare_count)
        return -1;

    /* its cgroups before it runs anything of the launch, as for a direct launch */
    struct exec_status ignored;
    int report[2] = {-1, -1};
    if (launch_join_cgroups(spec, spares[i].pid, &ignored) < 0 ||
        (spec->init && pipe2(report, O_CLOEXEC) < 0)) {
        drop(i, true);
        return -1;
    }
    int fds[4] = {stdio[0], stdio[1], stdio[2], report[1]};
    if (send_launch(spares[i].channel, payload, len, fds, spec->init ? 4 : 3) < 0) {
        /* it died meanwhile; the direct launch will report what goes wrong */
        if (report[0] >= 0) {
            close(report[0]);
            close(report[1]);
        }
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
