#!/bin/busybox sh
# shellcheck shell=dash
# Stage 1 of the integration-test VM (the vm-cgroup2 modes of src-it): /init of the initramfs that
# dev.isolation.it.harness.VmRunner builds at test time, run by the kernel as PID 1 inside qemu.
#
# The initramfs holds /bin/busybox (static, the host's), this script, /stage2.sh, /vm.conf (written
# by the runner: the paths and the user of this run) and, under /modules, the kernel modules the
# 9p mounts need, with /modules/order listing them in load order.
#
# It mounts the host's root file system, shared by qemu read-only as 9p tag "host", at /newroot;
# puts tmpfs on the paths that must be writable; keeps the runner's staging directory visible at
# its own path (it lives in the host's /tmp, which gets a tmpfs here), and the JDK when it lives
# in such a path too ($KEEP); mounts the writable 9p share
# "out" (the mode's output directory on the host) on its own path; mounts /proc, /sys, /dev and
# cgroup2 (the only cgroup hierarchy: the kernel runs with cgroup_no_v1=all); and enters the new
# root with switch_root (not chroot: the kernel refuses user namespaces to a chrooted process).
# stage2.sh then runs the tests there. Whatever happens, the VM powers off at the end.

/bin/busybox mkdir -p /proc /sys /dev /bin /sbin /usr/bin /usr/sbin /newroot /keep
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

log() { echo "isolation-vm: $*"; }

# A failure before stage 2: say why on the console (the runner keeps it in the mode's log and
# reports the last "isolation-vm: FAILED" line), then power off; qemu runs with -no-reboot.
fail() {
    log "FAILED: $*"
    sync
    poweroff -f
    sleep 10
    exit 1 # PID 1 exiting panics the kernel, and panic=-1 makes qemu exit
}

mount -t sysfs sysfs /sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"

[ -r /vm.conf ] || fail "no /vm.conf in the initramfs"
# shellcheck source=/dev/null
. /vm.conf
for var in STAGING OUT MODE; do
    eval "[ -n \"\${$var:-}\" ]" || fail "/vm.conf does not set $var"
done

# --- kernel modules: virtio and 9p, in the order of /modules/order ------------------------------
# The runner lists only modules the kernel has as modules (modules.builtin are left out); a module
# that is already there (EEXIST) is fine, any other error shows up as a failed 9p mount below.
while read -r module; do
    [ -n "$module" ] || continue
    file=/modules/$module
    case "$file" in
        *.ko.xz) unxz -c "$file" > /tmp.ko && file=/tmp.ko ;;
        *.ko.gz) zcat "$file" > /tmp.ko && file=/tmp.ko ;;
    esac
    if ! out=$(insmod "$file" 2>&1); then
        case "$out" in
            *"File exists"*|*"exists"*) ;;
            *) log "insmod $module: $out" ;;
        esac
    fi
    rm -f /tmp.ko
done < /modules/order

# --- the host root, read-only -------------------------------------------------------------------
NINEP="trans=virtio,version=9p2000.L,msize=${NINEP_MSIZE:-512000}"
mount -t 9p -o "$NINEP,ro,cache=${HOST_CACHE:-loose}" host /newroot \
    || fail "mount -t 9p host /newroot (options $NINEP,ro): is the 9p share there and were the modules loaded?"

# The directories the VM must see although they may lie below a path that gets a tmpfs next: the
# staging directory (classpath, output directories) and, when it lives there, the JDK. Bound aside
# first, put back at their own paths after, so that paths read the same as on the host.
n=0
for dir in $STAGING ${KEEP:-}; do
    [ -d "/newroot$dir" ] || fail "$dir is not visible through the 9p share of the host root"
    n=$((n + 1))
    mkdir -p "/keep/$n" || fail "mkdir /keep/$n"
    mount --bind "/newroot$dir" "/keep/$n" || fail "bind $dir aside"
done

# Writable, empty, private to the VM: what programs expect to write.
home_mounted=
for dir in /tmp /var/tmp /run /root ${TEST_HOME:-}; do
    if [ -d "/newroot$dir" ] && [ ! -L "/newroot$dir" ]; then
        case "$dir" in
            /tmp|/var/tmp) mode=1777 ;;
            *) mode=0755 ;;
        esac
        mount -t tmpfs -o "mode=$mode,size=${TMPFS_SIZE:-512m}" tmpfs "/newroot$dir" || fail "tmpfs on $dir"
        [ "$dir" = "${TEST_HOME:-}" ] && home_mounted=yes
    fi
done
if [ -n "$home_mounted" ] && [ -n "${TEST_UID:-}" ]; then
    chown "$TEST_UID:${TEST_GID:-$TEST_UID}" "/newroot$TEST_HOME" && chmod 0700 "/newroot$TEST_HOME"
fi

n=0
for dir in $STAGING ${KEEP:-}; do
    n=$((n + 1))
    mkdir -p "/newroot$dir" 2>/dev/null
    mount --move "/keep/$n" "/newroot$dir" || fail "put $dir back"
done

# The output directory: a second, writable 9p share, at its own path.
[ -d "/newroot$OUT" ] || fail "the output directory $OUT is not in the staging directory"
mount -t 9p -o "$NINEP,rw,cache=none" out "/newroot$OUT" || fail "mount -t 9p out $OUT (the writable share)"

# --- /proc, /sys, /dev, cgroup2 -----------------------------------------------------------------
mount --move /proc /newroot/proc || fail "move /proc"
mount --move /sys /newroot/sys || fail "move /sys"
mount --move /dev /newroot/dev || fail "move /dev"
mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup || fail "mount cgroup2 at /sys/fs/cgroup"
mkdir -p /newroot/dev/pts /newroot/dev/shm 2>/dev/null
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /newroot/dev/pts || log "devpts: not mounted"
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm || log "/dev/shm: not mounted"

mkdir -p /newroot/run/isolation-it || fail "mkdir /run/isolation-it"
cp /stage2.sh /vm.conf /newroot/run/isolation-it/ || fail "copy stage 2"
SHELL_IN_ROOT=/bin/busybox
[ -x "/newroot$SHELL_IN_ROOT" ] || fail "no /bin/busybox in the host root (install busybox-static)"
log "stage 1 done; entering the host root"
# switch_root must be PID 1 itself; should it fail, PID 1 ends, the kernel panics and, with panic=-1 and
# qemu's -no-reboot, the VM ends: the runner reports the panic.
exec switch_root /newroot "$SHELL_IN_ROOT" sh /run/isolation-it/stage2.sh
