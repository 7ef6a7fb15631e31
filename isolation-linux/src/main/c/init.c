/*
 * The minimal init of a sandbox (ISO_TLV_INIT): PID 1 of the sandbox's PID namespace, in front
 * of the command. It reaps every process that ends up its child (orphans are reparented to PID
 * 1), forwards the signals it receives to the command, and ends when the command ends,
 * reporting the command's exact wait status to the helper.
 *
 * How it starts. Once the sandbox child has finished its set-up (root, ids, no_new_privs), it
 * blocks every signal and forks. The child goes on to execve the command. The parent, which
 * stays PID 1, re-executes the helper's own image (the sealed memfd, reached through
 * /proc/self/exe, opened before the fork) in init mode: argv {"isolation-init", REPORT_FD,
 * COMMAND_PID, GATE_FD}. No other binary is involved, and the re-exec matters:
 *   - the long-lived process inside the sandbox holds none of the helper's memory (a copy of
 *     the helper's heap holds the arguments and environments of other launches) and none of
 *     its descriptors (every descriptor of the helper is close-on-exec);
 *   - its mm belongs to the sandbox's user namespace, so it can be non-dumpable (nothing in the
 *     sandbox without CAP_SYS_PTRACE there can ptrace it or open its /proc files) and still be
 *     reached by a rootless helper's join (which has every capability in that namespace).
 * The command waits on a pipe until the init has made itself non-dumpable after that execve
 * (the init closes its end then; execve makes a process dumpable again, so the command must
 * not run, and read /proc/1, before). If the execve failed, the init writes a byte instead,
 * reports the failure on the status pipe (step "exec init") and the command never runs.
 *
 * Signals. Every signal stays blocked in the init (the mask survives execve), and the init
 * takes them with sigwaitinfo(). A blocked signal is queued even for a PID 1 that has no
 * handler, so none is lost between the fork and the loop. SIGCHLD means reap; every other
 * signal is forwarded to the command with kill(). SIGKILL and SIGSTOP cannot be caught: a
 * SIGKILL to the init (destroy, close) ends it, and with it the whole PID namespace.
 *
 * Exit status. When the command has ended, the init writes its wait status (int32, as from
 * waitpid) on the report pipe, whose read end only the helper holds, and exits: with the
 * command's code, or 128+N when signal N killed it. A PID 1 cannot die of a signal it sends
 * itself (the kernel drops signals without a handler sent to a namespace's init, even from the
 * init itself), so instead the helper, on reaping the init, reports the wait status read from
 * the pipe: the JVM sees exactly the status the command ended with, ExitStatus.killed(N) for a
 * command killed by signal N. When the pipe holds nothing (the init itself was killed), the
 * init's own status is reported.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#define INIT_ARGV0 "isolation-init"

int init_start(int report_fd, const char **step)
{
    sigset_t all, old;
    sigfillset(&all);
    if (sigprocmask(SIG_SETMASK, &all, &old) < 0) {
        *step = "block signals for init";
        return -1;
    }
    int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (exe < 0) {
        *step = "open init image";
        return -1;
    }
    /* the command learns whether the init's execve worked: EOF = yes, a byte = no */
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) < 0) {
        *step = "create pipe";
        return -1;
    }
    /* like the sandbox child itself, a raw clone: no glibc fork handlers in this process that
     * glibc did not see being created */
    pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
    if (child < 0) {
        *step = "fork command";
        return -1;
    }
    if (child == 0) {
        close(report_fd);
        close(gate[1]);
        close(exe);
        char verdict;
        ssize_t n;
        do
            n = read(gate[0], &verdict, 1);
        while (n < 0 && errno == EINTR);
        if (n != 0)
            _exit(127); /* the init reports the failure */
        close(gate[0]);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
    }

    /* PID 1: become the init. report_fd must survive the execve, everything else not. */
    close(gate[0]);
    char fdbuf[16], pidbuf[16], gatebuf[16];
    snprintf(fdbuf, sizeof fdbuf, "%d", report_fd);
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)child);
    snprintf(gatebuf, sizeof gatebuf, "%d", gate[1]);
    char *argv[] = {INIT_ARGV0, fdbuf, pidbuf, gatebuf, NULL};
    char *envp[] = {NULL};
    if (fcntl(report_fd, F_SETFD, 0) == 0 && fcntl(gate[1], F_SETFD, 0) == 0)
        syscall(SYS_execveat, exe, "", argv, envp, AT_EMPTY_PATH);
    int err = errno;
    if (write(gate[1], "x", 1) < 0) { /* the command must not run: it ends itself */
    }
    errno = err;
    *step = "exec init";
    return -2; /* in the init: the caller reports the failure, then the command's end reaps it */
}

bool init_is_init_mode(int argc, char **argv)
{
    return argc == 4 && strcmp(argv[0], INIT_ARGV0) == 0;
}

static int parse_int(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return (*s && !*end && v >= 0 && v <= 0x7fffffff) ? (int)v : -1;
}

/* Reaps every child that has ended; returns whether one of them was the command. */
static bool reap(pid_t command, int *command_status)
{
    bool ended = false;
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid <= 0)
            return ended;
        if (pid == command) {
            *command_status = status;
            ended = true;
        }
    }
}

int init_main(int argc, char **argv)
{
    (void)argc;
    int report = parse_int(argv[1]);
    pid_t command = parse_int(argv[2]);
    int gate = parse_int(argv[3]);
    if (report < 3 || command <= 0 || gate < 3)
        return 2;
    /* no other process may read our memory or descriptors through /proc or ptrace; only then
     * may the command go on */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        if (write(gate, "x", 1) < 0) { /* the command ends itself either way */
        }
        return 2;
    }
    close(gate);
    /* the init holds no stream of the sandbox: the JVM sees EOF when the command and its
     * children close theirs */
    for (int fd = 0; fd < 3; fd++)
        close(fd);
    if (fcntl(report, F_SETFD, FD_CLOEXEC) < 0)
        return 2;

    sigset_t all;
    sigfillset(&all);
    /* the mask came through execve blocked; make sure, in case */
    sigprocmask(SIG_SETMASK, &all, NULL);

    int command_status = 0;
    bool ended = reap(command, &command_status);
    while (!ended) {
        siginfo_t info;
        int sig = sigwaitinfo(&all, &info);
        if (sig < 0)
            continue; /* EINTR */
        if (sig == SIGCHLD) {
            ended = reap(command, &command_status);
            continue;
        }
        /* everything else goes to the command; it may have ended meanwhile (a zombie until
         * reaped above, so its pid cannot have been reused) */
        kill(command, sig);
    }

    int32_t ws = command_status;
    ssize_t n;
    do
        n = write(report, &ws, sizeof ws);
    while (n < 0 && errno == EINTR);
    /* exit with the command's code, or 128+N: what a reader of the init's own status sees
     * when the report did not make it */
    if (WIFEXITED(command_status))
        _exit(WEXITSTATUS(command_status));
    _exit(128 + WTERMSIG(command_status));
}

int init_take_status(int report_fd, int init_wait_status)
{
    int32_t ws;
    ssize_t n;
    do
        n = read(report_fd, &ws, sizeof ws);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof ws ? ws : init_wait_status;
}
