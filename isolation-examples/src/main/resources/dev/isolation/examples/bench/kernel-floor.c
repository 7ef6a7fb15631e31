/*
 * kernel-floor: how many launches per second this machine's kernel allows for the bench's
 * sandbox shape when nothing but the kernel work is done: no JVM, no helper, no messages, no
 * spares. Each of WORKERS processes loops, for SECONDS: clone a child into new user, PID,
 * mount, UTS and IPC namespaces, write its uid/gid maps (root mapped to our uid), and let it
 * bind ROOTFS, mount /proc and a /dev tmpfs with six device nodes bound in, pivot_root into
 * ROOTFS, detach the old root and exec /bin/true (ROOTFS's); then wait for it. That is less
 * than the library or bwrap do for a sandbox (no devpts, /dev/shm, symlinks, seccomp filter,
 * new session, fd hygiene), so it is a ceiling for them, not a peer.
 *
 *   kernel-floor ROOTFS SECONDS WORKERS              the sandbox shape
 *   kernel-floor ROOTFS SECONDS WORKERS -- CMD ARG..  CMD (e.g. bwrap ...) launched back to back
 *                                                     with posix_spawn, for comparison
 *
 * Prints launches per second and the busy and idle CPU per launch (/proc/stat, whole machine),
 * then a line "launches N seconds S" for scripts. Root inside maps to the caller's own uid and
 * gid, so it runs unprivileged too. The bench (bench/KernelFloor.java) builds it with
 * `cc -O2` and runs it as its throughput row kernel-floor; by hand:
 * cc -O2 -o kernel-floor kernel-floor.c
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
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *rootfs;
static int release_pipe[2]; /* the child waits for EOF: its maps are written */

static _Noreturn void die(const char *what)
{
    fprintf(stderr, "kernel-floor: %s: %s\n", what, strerror(errno));
    _exit(126);
}

static int sandbox_child(void *unused)
{
    (void)unused;
    char byte;
    close(release_pipe[1]);
    if (read(release_pipe[0], &byte, 1) != 0)
        _exit(125);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        die("make / private");
    if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
        die("bind rootfs");
    if (chdir(rootfs) < 0)
        die("chdir rootfs");
    if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        die("mount proc");
    if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID, "mode=755") < 0)
        die("mount dev");
    static const char *const nodes[] = {"null", "zero", "full", "random", "urandom", "tty"};
    for (size_t i = 0; i < sizeof nodes / sizeof *nodes; i++) {
        char target[64], source[64];
        snprintf(target, sizeof target, "dev/%s", nodes[i]);
        snprintf(source, sizeof source, "/dev/%s", nodes[i]);
        int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0)
            die("create device mount point");
        close(fd);
        if (mount(source, target, NULL, MS_BIND, NULL) < 0)
            die("bind device node");
    }
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        die("pivot_root");
    if (umount2(".", MNT_DETACH) < 0)
        die("detach old root");
    if (chdir("/") < 0)
        die("chdir /");
    execl("/bin/true", "true", (char *)NULL);
    die("exec /bin/true");
}

static void write_file(pid_t pid, const char *name, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) < 0)
        die(path);
    close(fd);
}

static pid_t launch_sandbox(void)
{
    static char stack[64 * 1024];
    if (pipe2(release_pipe, O_CLOEXEC) < 0)
        die("pipe");
    pid_t pid = clone(sandbox_child, stack + sizeof stack,
                      CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, NULL);
    if (pid < 0)
        die("clone");
    close(release_pipe[0]);
    char map[32];
    snprintf(map, sizeof map, "0 %d 1\n", (int)getuid());
    write_file(pid, "uid_map", map);
    write_file(pid, "setgroups", "deny");
    snprintf(map, sizeof map, "0 %d 1\n", (int)getgid());
    write_file(pid, "gid_map", map);
    close(release_pipe[1]);
    return pid;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* busy and idle jiffies of the whole machine */
static void cpu_jiffies(long long *busy, long long *idle)
{
    long long v[10] = {0};
    FILE *f = fopen("/proc/stat", "re");
    if (!f || fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
                     &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) < 8)
        die("/proc/stat");
    fclose(f);
    *idle = v[3] + v[4];
    *busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

int main(int argc, char **argv)
{
    if (argc < 4 || (argc > 4 && (strcmp(argv[4], "--") != 0 || argc < 6))) {
        fprintf(stderr, "usage: %s ROOTFS SECONDS WORKERS [-- CMD ARG...]\n", argv[0]);
        return 2;
    }
    rootfs = argv[1];
    double seconds = atof(argv[2]);
    int workers = atoi(argv[3]);
    char **command = argc > 4 ? argv + 5 : NULL;
    int counts[2];
    if (pipe(counts) < 0)
        die("pipe");
    long long busy0, idle0, busy1, idle1;
    cpu_jiffies(&busy0, &idle0);
    double start = now(), end = start + seconds;
    for (int w = 0; w < workers; w++) {
        pid_t worker = fork();
        if (worker < 0)
            die("fork");
        if (worker > 0)
            continue;
        long launches = 0;
        while (now() < end) {
            pid_t pid;
            if (command) {
                int error = posix_spawnp(&pid, command[0], NULL, NULL, command, environ);
                if (error) {
                    errno = error;
                    die(command[0]);
                }
            } else {
                pid = launch_sandbox();
            }
            int status;
            if (waitpid(pid, &status, 0) < 0)
                die("waitpid");
            if (status != 0) {
                fprintf(stderr, "kernel-floor: a launch ended with wait status %#x\n", status);
                _exit(1);
            }
            launches++;
        }
        if (write(counts[1], &launches, sizeof launches) != sizeof launches)
            _exit(1);
        _exit(0);
    }
    long total = 0;
    for (int w = 0; w < workers; w++) {
        long n;
        if (read(counts[0], &n, sizeof n) != sizeof n)
            die("a worker failed");
        total += n;
    }
    while (wait(NULL) > 0)
        ;
    double elapsed = now() - start;
    cpu_jiffies(&busy1, &idle1);
    double ms_per_jiffy = 1000.0 / (double)sysconf(_SC_CLK_TCK);
    printf("%s: %.0f launches/s with %d workers; busy CPU %.3f ms/launch, idle %.0f%%\n",
           command ? command[0] : "sandbox shape", (double)total / elapsed, workers,
           (double)(busy1 - busy0) * ms_per_jiffy / (double)total,
           100.0 * (double)(idle1 - idle0) / (double)(busy1 - busy0 + idle1 - idle0));
    printf("launches %ld seconds %.6f\n", total, elapsed);
    return 0;
}
