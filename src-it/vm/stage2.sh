#!/bin/busybox sh
# shellcheck shell=dash
# Stage 2 of the integration-test VM: PID 1 in the host's root file system (read-only 9p, with tmpfs
# on /tmp, /run, ...), started by init.sh through switch_root, run by the host's /bin/busybox.
#
# Writes what the kernel offers to $OUT/vm-facts.properties, prepares the test JVM's cgroup, runs the
# job script the runner wrote ($JOB: the test JVM's environment and command line) in that cgroup,
# as root or, with setpriv, as the test user, writes its exit code to $OUT/vm-exit and powers off.
#
# Cgroups: the only hierarchy is cgroup2 at /sys/fs/cgroup, and nothing but this script has touched it.
# - DELEGATE=no (vm-cgroup2, root): the JVM runs in the leaf /sys/fs/cgroup/$CGROUP, as under a
#   systemd service; no controller is enabled anywhere, the library has to do that itself.
# - DELEGATE=yes (vm-cgroup2-user): what systemd's Delegate=yes does for a user's unit. The root
#   cgroup hands memory, pids and cpu to its children; /sys/fs/cgroup/$CGROUP, with its cgroup.procs,
#   cgroup.subtree_control and cgroup.threads, belongs to the test user; the JVM is its only process.

# shellcheck source=/dev/null
. /run/isolation-it/vm.conf
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
BB=/bin/busybox
CG=/sys/fs/cgroup

log() { echo "isolation-vm: $*"; }

finish() {
    echo "$1" > "$OUT/vm-exit.tmp" && mv "$OUT/vm-exit.tmp" "$OUT/vm-exit"
    $BB sync
    log "powering off (test JVM exit code $1)"
    $BB poweroff -f
    $BB sleep 10
    exit "$1" # PID 1 exiting panics the kernel; panic=-1 and -no-reboot end qemu then
}

fail() {
    log "FAILED: $*"
    echo "$*" > "$OUT/vm-failure"
    finish 125
}

$BB hostname "${VM_HOSTNAME:-isolation-vm}"
$BB ip link set lo up 2>/dev/null

# --- facts about this kernel --------------------------------------------------------------------
# memory.peak (Linux 5.19) and cgroup.kill (5.14) exist only below the root cgroup, memory.peak only
# where the memory controller is on: a probe cgroup shows them; the root's subtree_control is put back.
fstype() { awk -v dir="$1" '$2 == dir { type = $3 } END { print type }' /proc/mounts; }
probe_file() { if [ -e "$CG/isolation-it-probe/$1" ]; then echo yes; else echo no; fi; }
before=$(cat "$CG/cgroup.subtree_control")
{
    echo "kernel=$(uname -r)"
    echo "kernel.version=$(uname -v)"
    echo "cgroup.fs=$(fstype $CG)"
    echo "cgroup.controllers=$(cat $CG/cgroup.controllers)"
    echo "cgroup.v1.mounts=$(grep -c ' cgroup ' /proc/mounts)"
    echo "+memory +pids +cpu" > "$CG/cgroup.subtree_control" 2>/dev/null
    if mkdir "$CG/isolation-it-probe" 2>/dev/null; then
        for file in memory.peak cgroup.kill memory.max memory.swap.max memory.events.local pids.max pids.peak cpu.max cpu.stat; do
            echo "$file=$(probe_file $file)"
        done
        rmdir "$CG/isolation-it-probe"
    fi
    for controller in cpu pids memory; do
        case " $before " in
            *" $controller "*) ;;
            *) echo "-$controller" > "$CG/cgroup.subtree_control" 2>/dev/null ;;
        esac
    done
    echo "user_namespaces=$(cat /proc/sys/user/max_user_namespaces 2>/dev/null)"
    echo "unprivileged_userns_clone=$(cat /proc/sys/kernel/unprivileged_userns_clone 2>/dev/null || echo absent)"
    echo "cpus=$(nproc)"
    echo "memory.kb=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
} > "$OUT/vm-facts.properties.tmp" 2>/dev/null || fail "cannot write to the output share $OUT"
mv "$OUT/vm-facts.properties.tmp" "$OUT/vm-facts.properties" || fail "cannot rename in the output share $OUT"
sed 's/^/isolation-vm: fact /' "$OUT/vm-facts.properties"

# --- the test JVM's cgroup ----------------------------------------------------------------------
[ "$(fstype $CG)" = cgroup2 ] || fail "$CG is not cgroup2 but $(fstype $CG)"
target="$CG/$CGROUP"
mkdir "$target" || fail "mkdir $target"
if [ "$DELEGATE" = yes ]; then
    echo "+memory +pids +cpu" > "$CG/cgroup.subtree_control" || fail "enable memory, pids and cpu in $CG/cgroup.subtree_control"
    chown "$TEST_UID:$TEST_GID" "$target" "$target/cgroup.procs" "$target/cgroup.subtree_control" "$target/cgroup.threads" \
        || fail "chown $target to $TEST_UID:$TEST_GID"
    log "delegated $target to uid $TEST_UID (controllers: $(cat "$target/cgroup.controllers"))"
fi

# --- the test JVM ---------------------------------------------------------------------------------
[ -r "$JOB" ] || fail "no job script $JOB"
switch=""
if [ "$TEST_UID" != 0 ]; then
    [ -x /usr/bin/setpriv ] || fail "no /usr/bin/setpriv in the host root (util-linux)"
    switch="/usr/bin/setpriv --reuid=$TEST_UID --regid=$TEST_GID --init-groups --"
fi
log "booted in $(cut -d' ' -f1 /proc/uptime) s; running the test JVM as uid $TEST_UID in $target"
echo booted > "$OUT/vm-booted"
# The shell that becomes the JVM moves itself (writing 0 to cgroup.procs moves the writer) into the
# cgroup, then turns into setpriv and the job, keeping its pid: the JVM is alone there.
# shellcheck disable=SC2086,SC2016 # $switch is a command prefix; the inner script expands its own $1 and $@
$BB sh -c 'echo 0 > "$1/cgroup.procs" || exit 125; shift; exec "$@"' move-self "$target" $switch /bin/sh "$JOB" </dev/null
finish $?
