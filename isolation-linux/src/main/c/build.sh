#!/bin/sh
# build.sh OUTDIR
#
# Builds the static isolation-helper into OUTDIR/<arch>/isolation-helper: for the native
# architecture (uname -m) with gcc, and for aarch64 with aarch64-linux-gnu-gcc when that
# cross compiler is on PATH. Fails on any compile error.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
OUTDIR=$1
SRC=$(cd "$(dirname "$0")" && pwd)
CFLAGS="-std=gnu11 -static -Os -Wall -Wextra"

# build CC STRIP ARCH
build() {
    mkdir -p "$OUTDIR/$3"
    # shellcheck disable=SC2086 # CFLAGS is split on purpose
    "$1" $CFLAGS -o "$OUTDIR/$3/isolation-helper" \
        "$SRC/helper.c" "$SRC/spec.c" "$SRC/launch.c" "$SRC/sandbox.c" \
        "$SRC/cgroup.c" "$SRC/prepared.c" "$SRC/teardown.c" \
        "$SRC/init.c" "$SRC/join.c" "$SRC/stop.c" "$SRC/guard.c" "$SRC/trace.c"
    "$2" "$OUTDIR/$3/isolation-helper"
    echo "built $OUTDIR/$3/isolation-helper"
}

NATIVE=$(uname -m)
build "${CC:-gcc}" "${STRIP:-strip}" "$NATIVE"

if [ "$NATIVE" != aarch64 ]; then
    if command -v aarch64-linux-gnu-gcc >/dev/null 2>&1; then
        build aarch64-linux-gnu-gcc aarch64-linux-gnu-strip aarch64
    else
        echo "skipping aarch64: aarch64-linux-gnu-gcc is not on PATH" >&2
    fi
fi
