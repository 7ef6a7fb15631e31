/*
 * Mount namespace teardown off the exit path. When the last process of a mount namespace
 * exits, the kernel unmounts its whole tree (root, /proc, /dev and its nodes, ...) inside that
 * exit, waiting for an RCU grace period, before the parent is told: a tenth of a millisecond
 * or more between the sandbox's end and its exit status. So the helper holds each sandbox's
 * mount namespace (an nsfs fd, opened once the execve succeeded) and, once the exit has been
 * reported, passes it to a small child of its own that only closes what it is given; the
 * unmounting then happens there, beside the next launch. Without that child (it could not be
 * started, or died) the helper closes the fd itself, as the kernel would have anyway.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "compat.h"
#include "isolation.h"

#define TEARDOWN_BATCH 16

static int closer = -1; /* our end of the socket to the closing child */

static _Noreturn void closer_main(int channel)
{
    /* nothing the helper had open is ours (0-2 stay: its /dev/null or the JVM's stderr) */
    close_fds_except(channel, channel);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    prctl(PR_SET_NAME, "isolation-close", 0, 0, 0);
    if (getppid() == 1)
        _exit(0);
    for (;;) {
        char byte;
        char control[CMSG_SPACE(sizeof(int) * TEARDOWN_BATCH)];
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
        ssize_t n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            _exit(0); /* the helper is gone: exiting closes everything anyway */
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < count; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                close(fd);
            }
        }
    }
}

void teardown_start(void)
{
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
        return;
    /* fork-like raw clone, as for sandboxes: the helper is single-threaded */
    long pid = syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, 0);
    if (pid == 0) {
        close(pair[0]);
        closer_main(pair[1]);
    }
    close(pair[1]);
    if (pid < 0) {
        close(pair[0]);
        return;
    }
    closer = pair[0];
}

int teardown_hold(pid_t pid)
{
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)pid);
    return open(path, O_RDONLY | O_CLOEXEC); /* -1 if it has ended already: nothing to hold */
}

void teardown_release(int fd)
{
    if (fd < 0)
        return;
    if (closer >= 0) {
        char control[CMSG_SPACE(sizeof(int))];
        memset(control, 0, sizeof control);
        char byte = 0;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                             .msg_controllen = sizeof control};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        /* never block the event loop: a full queue or a dead closer means we close it here */
        if (sendmsg(closer, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
            close(closer);
            closer = -1;
        }
    }
    close(fd); /* the last reference only if it was not passed on */
}
