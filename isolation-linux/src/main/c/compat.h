/*
 * Syscalls and constants that older libc headers lack. The syscalls used here were all added
 * after the architectures unified their numbering (424+), so one number fits every arch.
 */
#ifndef ISOLATION_COMPAT_H
#define ISOLATION_COMPAT_H

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

/* <linux/mount.h> clashes with glibc's <sys/mount.h>, so the few names are defined here. */
#define ISO_OPEN_TREE_CLONE 1u
#define ISO_MOVE_MOUNT_F_EMPTY_PATH 0x00000004u
#define ISO_MOUNT_ATTR_RDONLY 0x00000001ull

/* <linux/sched.h>'s struct clone_args up to `cgroup` (CLONE_ARGS_SIZE_VER2, Linux 5.7). */
#define ISO_CLONE_INTO_CGROUP 0x200000000ull
struct iso_clone_args {
    uint64_t flags;
    uint64_t pidfd;
    uint64_t child_tid;
    uint64_t parent_tid;
    uint64_t exit_signal;
    uint64_t stack;
    uint64_t stack_size;
    uint64_t tls;
    uint64_t set_tid;
    uint64_t set_tid_size;
    uint64_t cgroup;
};

struct iso_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};

static inline int iso_close_range(unsigned first, unsigned last, unsigned flags)
{
    return (int)syscall(SYS_close_range, first, last, flags);
}

static inline int iso_open_tree(int dirfd, const char *path, unsigned flags)
{
    return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

static inline int iso_move_mount(int from_dirfd, const char *from_path, int to_dirfd,
                                 const char *to_path, unsigned flags)
{
    return (int)syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags);
}

static inline int iso_mount_setattr(int dirfd, const char *path, unsigned flags,
                                    struct iso_mount_attr *attr)
{
    return (int)syscall(SYS_mount_setattr, dirfd, path, flags, attr, sizeof *attr);
}

#endif
