/*
 * Stopping sandboxes, and making sure nothing of them outlives them.
 *
 *   - The helper is a child subreaper (PR_SET_CHILD_SUBREAPER): a process of a sandbox whose
 *     parent dies (a double fork, a daemon) is reparented to the helper instead of the host's
 *     init, so every process a sandbox ever started stays a descendant of the helper. The
 *     event loop reaps such orphans like any child; at shutdown the helper kills and reaps
 *     every descendant it still has.
 *   - ISO_MSG_SIGNAL_ALL (destroy) signals every process of a launch: with a PID namespace,
 *     SIGKILL to its PID 1 (the kernel then kills the whole namespace); with a cgroup of its
 *     own, every member (cgroup.kill on v2, freeze-and-kill on v1 with a freezer, else rounds
 *     of kill over cgroup.procs); otherwise the process group, which is the main process's pid
 *     since the sandbox called setsid().
 *   - When a launch's main process ends, before it is reaped, what it leaves is killed the same
 *     way: its process group (no PID namespace) and its cgroup (when it has one).
 *
 * Nothing here can hit an unrelated process that reused a pid: a launch is acted on only while
 * its main process is not reaped (so its pid and process group id are still taken), single
 * processes are pinned with pidfds before they are signalled, and cgroup members are signalled
 * by the kernel (cgroup.kill) or while frozen.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int iso_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int iso_pidfd_send_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/*
 * HOOK for the resource-limits code (cgroup.c): the host directory of the cgroup the helper
 * created for launch `id`, or NULL when it has none. On cgroup v1, the directory in the freezer
 * hierarchy when the launch has one there, else in any of its hierarchies (its members are
 * listed in each). This weak default knows of no cgroup; a definition elsewhere replaces it.
 * Until one exists, destroy() and the end of a main process act on the PID namespace or the
 * process group only.
 */
__attribute__((weak)) const char *launch_cgroup_dir(uint64_t id)
{
    (void)id;
    return NULL;
}

void lifecycle_setup(void)
{
    /* failure (kernels before 3.4) only weakens the guarantee at shutdown */
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

/* ---- small file helpers ------------------------------------------------------------------ */

/* Reads a whole file (relative to dirfd) into a NUL-terminated malloc'd buffer; NULL + errno. */
char *lifecycle_read_at(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t len = 0, cap = 8192;
    char *buf = malloc(cap);
    while (buf) {
        if (cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n > 0) {
            len += (size_t)n;
        } else if (n == 0) {
            buf[len] = '\0';
            break;
        } else if (errno != EINTR) {
            int saved = errno;
            free(buf);
            buf = NULL;
            errno = saved;
        }
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return buf;
}

static int write_string(const char *dir, const char *file, const char *value)
{
    char path[4200];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, file) >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return write_whole_file(path, value);
}

/* ---- cgroups ----------------------------------------------------------------------------- */

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo */
static void unescape(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
            s[3] <= '7') {
            *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *out++ = *s;
        }
    }
    *out = '\0';
}

/* Whether every comma-separated item of `want` is among the comma-separated `have`. */
static bool options_contain(const char *have, const char *want)
{
    while (*want) {
        size_t len = strcspn(want, ",");
        bool found = false;
        for (const char *h = have; *h;) {
            size_t hl = strcspn(h, ",");
            if (hl == len && strncmp(h, want, len) == 0) {
                found = true;
                break;
            }
            h += hl;
            if (*h == ',')
                h++;
        }
        if (!found)
            return false;
        want += len;
        if (*want == ',')
            want++;
    }
    return true;
}

/*
 * The host directory of cgroup `path` in the hierarchy named by `controllers` ("" = cgroup v2,
 * else the v1 controllers or "name=..."), from the caller's mountinfo. 0, or -1 with ENOENT.
 */
static int hierarchy_dir(const char *mountinfo, const char *controllers, const char *path, char *out,
                         size_t outlen)
{
    char *copy = strdup(mountinfo);
    if (!copy)
        return -1;
    int rc = -1;
    for (char *line = copy, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS */
        char *fields[5];
        char *p = line;
        int i;
        for (i = 0; i < 5 && p; i++) {
            fields[i] = p;
            p = strchr(p, ' ');
            if (p)
                *p++ = '\0';
        }
        if (i < 5 || !p)
            continue;
        char *dash = strstr(p, " - ");
        if (!dash)
            continue;
        char *fstype = dash + 3;
        char *source = strchr(fstype, ' ');
        if (!source)
            continue;
        *source++ = '\0';
        char *super = strchr(source, ' ');
        super = super ? super + 1 : (char *)"";
        bool match = controllers[0] == '\0' ? strcmp(fstype, "cgroup2") == 0
                                            : strcmp(fstype, "cgroup") == 0 && options_contain(super, controllers);
        if (!match)
            continue;
        char *root = fields[3], *mountpoint = fields[4];
        unescape(root);
        unescape(mountpoint);
        size_t rootlen = strcmp(root, "/") == 0 ? 0 : strlen(root);
        if (rootlen && (strncmp(path, root, rootlen) != 0 || (path[rootlen] != '/' && path[rootlen] != '\0')))
            continue;
        if ((size_t)snprintf(out, outlen, "%s%s", mountpoint, path + rootlen) < outlen) {
            rc = 0;
            break;
        }
    }
    free(copy);
    if (rc < 0)
        errno = ENOENT;
    return rc;
}

/* The line of /proc/PID/cgroup text for hierarchy (id, controllers), or NULL. Modifies nothing. */
static const char *find_line(const char *text, const char *id_and_controllers, size_t len)
{
    for (const char *line = text; line && *line;) {
        if (strncmp(line, id_and_controllers, len) == 0 && line[len] == ':')
            return line;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return NULL;
}

int lifecycle_foreign_cgroups(int procdir, int (*fn)(const char *dir, const char *controllers, void *arg),
                              void *arg, char *errpath, size_t errlen)
{
    char *theirs = lifecycle_read_at(procdir, "cgroup");
    if (!theirs) {
        snprintf(errpath, errlen, "cgroup");
        return -1;
    }
    char *ours = lifecycle_read_at(AT_FDCWD, "/proc/self/cgroup");
    char *mountinfo = ours ? lifecycle_read_at(AT_FDCWD, "/proc/self/mountinfo") : NULL;
    int rc = 0;
    if (!ours || !mountinfo) {
        snprintf(errpath, errlen, "/proc/self/%s", ours ? "mountinfo" : "cgroup");
        rc = -1;
    }
    for (char *line = theirs, *next; rc == 0 && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        /* "ID:CONTROLLERS:PATH" */
        char *c1 = strchr(line, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        const char *mine = find_line(ours, line, (size_t)(c2 - line));
        const char *path = c2 + 1;
        if (mine) {
            const char *mypath = mine + (c2 - line) + 1;
            size_t plen = strlen(path);
            if (strncmp(mypath, path, plen) == 0 && (mypath[plen] == '\n' || mypath[plen] == '\0'))
                continue; /* the same cgroup as the helper's */
        }
        *c2 = '\0';
        char dir[4200];
        if (hierarchy_dir(mountinfo, c1 + 1, path, dir, sizeof dir) < 0) {
            snprintf(errpath, errlen, "%s:%s", c1 + 1, path);
            rc = -1;
            break;
        }
        if (fn(dir, c1 + 1, arg) < 0) {
            snprintf(errpath, errlen, "%s", dir);
            rc = -1;
        }
    }
    int saved = errno;
    free(theirs);
    free(ours);
    free(mountinfo);
    errno = saved;
    return rc;
}

/* Whether /proc/PID/cgroup still places the process in cgroup directory `name` (the launch
 * cgroup's own name, unique to it) or below. */
static bool still_member(pid_t pid, const char *name)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    char *text = lifecycle_read_at(AT_FDCWD, path);
    if (!text)
        return false;
    bool member = false;
    size_t len = strlen(name);
    for (char *p = text; !member && (p = strstr(p, name)) != NULL; p += len)
        member = p > text && p[-1] == '/' && (p[len] == '/' || p[len] == '\n' || p[len] == '\0');
    free(text);
    return member;
}

/* Signals each process listed in dir/cgroup.procs once; returns how many it signalled. With
 * check, each is pinned by a pidfd and checked to still be a member before it is signalled
 * (not needed while the cgroup is frozen: a frozen member cannot exit and free its pid). */
static int signal_members(const char *dir, int sig, bool check)
{
    const char *name = strrchr(dir, '/');
    name = name ? name + 1 : dir;
    char path[4200];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    char *list = lifecycle_read_at(AT_FDCWD, path);
    if (!list)
        return 0;
    int count = 0;
    for (char *p = list; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        p = end;
        while (*p == '\n')
            p++;
        if (pid <= 0 || pid == getpid())
            continue;
        /* pin it first: a pid read from the list may have been reused since */
        int pidfd = iso_pidfd_open((pid_t)pid);
        if (pidfd < 0 && errno != ENOSYS)
            continue; /* gone */
        if (check && !still_member((pid_t)pid, name)) {
            if (pidfd >= 0)
                close(pidfd);
            continue;
        }
        if (pidfd >= 0) {
            iso_pidfd_send_signal(pidfd, sig);
            close(pidfd);
        } else {
            kill((pid_t)pid, sig); /* kernel < 5.3 */
        }
        count++;
    }
    free(list);
    return count;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Freezes (v2 cgroup.freeze or v1 freezer.state) and waits until frozen; false if it cannot. */
static bool freeze(const char *dir, bool v2, bool on)
{
    if (v2)
        return write_string(dir, "cgroup.freeze", on ? "1" : "0") == 0;
    if (write_string(dir, "freezer.state", on ? "FROZEN" : "THAWED") < 0)
        return false;
    if (!on)
        return true;
    char path[4200];
    snprintf(path, sizeof path, "%s/freezer.state", dir);
    for (int i = 0; i < 100; i++) { /* FREEZING -> FROZEN; at most about 100 ms */
        char *state = lifecycle_read_at(AT_FDCWD, path);
        bool frozen = state && strncmp(state, "FROZEN", 6) == 0;
        free(state);
        if (frozen)
            return true;
        sleep_ms(1);
    }
    return true; /* members that have not frozen yet are still signalled */
}

int lifecycle_cgroup_signal(const char *dir, int sig)
{
    char probe[4200];
    struct stat st;
    if (sig == SIGKILL) {
        /* cgroup v2, Linux 5.14+: the kernel kills every member, including ones forking */
        if (write_string(dir, "cgroup.kill", "1") == 0)
            return 0;
    }
    snprintf(probe, sizeof probe, "%s/cgroup.freeze", dir);
    bool v2 = stat(probe, &st) == 0;
    snprintf(probe, sizeof probe, "%s/freezer.state", dir);
    bool v1_freezer = !v2 && stat(probe, &st) == 0;
    if (v2 || v1_freezer) {
        /* frozen, nothing can fork or exit (and free its pid) while it is being signalled; a
         * frozen process still dies of SIGKILL */
        bool frozen = freeze(dir, v2, true);
        signal_members(dir, sig, true); /* freezing is asynchronous: check anyway */
        if (frozen)
            freeze(dir, v2, false);
        return 0;
    }
    /* v1 without a freezer: rounds, until no member is left (forks can outrun one round) */
    for (int round = 0; round < 100; round++) {
        if (signal_members(dir, sig, true) == 0 || sig != SIGKILL)
            break;
        sleep_ms(1);
    }
    return 0;
}

/* ---- PID namespaces ---------------------------------------------------------------------- */

/* Signals every process in the PID namespace of `pid` (for signals other than SIGKILL, which
 * its PID 1 takes down with it). Each candidate is pinned with a pidfd before its namespace is
 * checked, and checked again as alive after, so a reused pid is never signalled. */
static void signal_pid_namespace(pid_t pid, int sig)
{
    char path[64];
    struct stat ns;
    snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)pid);
    if (stat(path, &ns) < 0)
        return;
    DIR *d = opendir("/proc");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long other = strtol(e->d_name, &end, 10);
        if (*end || other <= 0)
            continue;
        int pidfd = iso_pidfd_open((pid_t)other);
        if (pidfd < 0 && errno != ENOSYS)
            continue;
        struct stat st;
        snprintf(path, sizeof path, "/proc/%ld/ns/pid", other);
        if (stat(path, &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev) {
            if (pidfd >= 0)
                iso_pidfd_send_signal(pidfd, sig);
            else
                kill((pid_t)other, sig);
        }
        if (pidfd >= 0)
            close(pidfd);
    }
    closedir(d);
}

/* ---- the entry points -------------------------------------------------------------------- */

void lifecycle_signal_all(uint64_t id, pid_t pid, unsigned flags, int sig)
{
    bool joined = flags & LAUNCH_JOINED;
    if (!joined && (flags & LAUNCH_PID_NS)) {
        if (sig == SIGKILL)
            kill(pid, SIGKILL); /* PID 1: the kernel kills everything in the namespace */
        else
            signal_pid_namespace(pid, sig);
    }
    if (!joined) {
        /* members of the cgroup outside the PID namespace too, e.g. joined without it. Only
         * the helper's own record of the cgroup it made is trusted: /proc/PID/cgroup says
         * where the sandbox is now, and a sandbox allowed to move itself could name a cgroup
         * it shares with anyone. */
        const char *dir = launch_cgroup_dir(id);
        if (dir)
            lifecycle_cgroup_signal(dir, sig);
    }
    if (joined || !(flags & LAUNCH_PID_NS)) {
        /* the process group: the sandbox (and a joined process) called setsid(), so its id is
         * the main pid, taken until that is reaped */
        if (getpgid(pid) == pid)
            kill(-pid, sig);
        kill(pid, sig);
    }
}

void lifecycle_main_ended(uint64_t id, pid_t pid, unsigned flags)
{
    (void)id; /* the launch's cgroup, if any, is emptied by cgroup_finish once it is reaped */
    if (flags & (LAUNCH_JOINED | LAUNCH_PID_NS))
        return; /* a joined process's end ends nothing else; a PID 1's end ends its namespace */
    if (getpgid(pid) == pid)
        kill(-pid, SIGKILL); /* the zombie still holds the group id */
}

/* Kills every direct child of the helper (sandboxes, joined processes, adopted orphans). */
static void kill_children(void)
{
    DIR *d = opendir("/proc");
    if (!d)
        return;
    pid_t self = getpid();
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        char path[64];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        char *stat = lifecycle_read_at(AT_FDCWD, path);
        if (!stat)
            continue;
        /* "PID (COMM) STATE PPID ...": COMM may hold anything, so from the last ')' */
        char *close_paren = strrchr(stat, ')');
        int ppid = 0;
        char state = 0;
        if (close_paren)
            sscanf(close_paren + 1, " %c %d", &state, &ppid);
        free(stat);
        /* our child cannot be reaped by anyone else, so its pid cannot be reused meanwhile */
        if (ppid == self && state != 'Z')
            kill((pid_t)pid, SIGKILL);
    }
    closedir(d);
}

void lifecycle_kill_everything(void)
{
    for (;;) {
        kill_children();
        /* reap what has ended; block for the next one, then look again: the children of a
         * killed process are reparented to us (subreaper) and must be killed in turn */
        pid_t pid;
        do
            pid = waitpid(-1, NULL, 0);
        while (pid < 0 && errno == EINTR);
        if (pid < 0)
            return; /* ECHILD: nothing is left */
        while ((pid = waitpid(-1, NULL, WNOHANG)) > 0 || (pid < 0 && errno == EINTR))
            ;
    }
}
