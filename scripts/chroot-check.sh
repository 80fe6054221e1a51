#!/usr/bin/env bash
# Builds and tests the current working tree inside a Debian chroot made by
# scripts/chroot.sh, with that release's compilers and libraries:
#
#   scripts/chroot-check.sh SUITE       SUITE: trixie or sid; needs root
#
# Copies the tree (tracked and untracked files, not build*/ nor .git) to
# /tmp/smbcim-src in the chroot, replacing an older copy, and the wbemcli
# captures ($SMBCIM_CAPTURES, default /work/shared/spec/wbemcli-captures,
# when there) to /tmp/smbcim-captures; runs there
#   make -j2 CC=gcc all unit && make CC=gcc check
# and the same with clang (in build-clang/) when the chroot has clang.
# Ends with one line "N passed, N failed" over both, as scripts/test-all.sh
# adds them up (a failed build counts as one failure); exit status 0 only
# when nothing failed.
set -u
cd "$(dirname "$0")/.." || exit 1
[ $# -eq 1 ] || { sed -n '2,15p' "$0" >&2; exit 2; }
suite=$1
case "$suite" in trixie|sid) ;; *) echo "chroot-check.sh: unknown suite '$suite' (trixie or sid)" >&2; exit 2;; esac
[ "$(id -u)" -eq 0 ] || { echo "chroot-check.sh: needs root (chroot)" >&2; exit 1; }
dir=$(bash scripts/chroot.sh path "$suite")
[ -f "$dir/.smbcim-chroot" ] || {
    echo "chroot-check.sh: $suite is not set up (scripts/chroot.sh setup $suite)" >&2; exit 1; }
start=$(date +%s)

# The copy: what git sees in the working tree (deleted files left out).
dest=$dir/tmp/smbcim-src
rm -rf "$dest"
mkdir -p "$dest"
git ls-files -co --exclude-standard -z |
    while IFS= read -r -d '' f; do
        case "$f" in build*/*|.git/*|*/__pycache__/*) continue;; esac
        if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar --null -T - -cf - | tar -xf - -C "$dest" || {
        echo "chroot-check.sh: copying the tree failed" >&2; exit 1; }

# The wbemcli captures that test_srv_cimxml parses when it finds them.
caps=${SMBCIM_CAPTURES:-/work/shared/spec/wbemcli-captures}
rm -rf "$dir/tmp/smbcim-captures"
if [ -d "$caps" ]; then
    mkdir -p "$dir/tmp/smbcim-captures"
    cp -a "$caps/." "$dir/tmp/smbcim-captures/"
fi

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
total_p=0
total_f=0
add() { # add "<log>": the last "N passed, N failed" line of it; none is a failure
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    total_p=$((total_p + ${p:-0}))
    total_f=$((total_f + ${f:-1}))
}
# in_chroot CMD: runs the shell command CMD in the copy, with a clean
# environment (nothing of the caller's leaks in).
in_chroot() {
    bash scripts/chroot.sh run "$suite" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root LANG=C.UTF-8 TERM=dumb SMBCIM_CAPTURES=/tmp/smbcim-captures \
        /bin/sh -c "cd /tmp/smbcim-src && $1"
}

# check CC BUILD: build, then make check; its summary into the totals.
check() {
    local cc=$1 build=$2
    echo "== $suite: $cc ($(in_chroot "$cc --version | head -n 1"))"
    if in_chroot "make -j2 CC=$cc BUILD=$build all unit" >"$log/$cc-build" 2>&1; then
        cat "$log/$cc-build"
        in_chroot "make CC=$cc BUILD=$build check" 2>&1 | tee "$log/$cc"
        add "$log/$cc"
    else
        cat "$log/$cc-build"
        echo "$suite: $cc build failed"
        total_f=$((total_f + 1))
    fi
}

check gcc build
if in_chroot "command -v clang >/dev/null"; then
    check clang build-clang
else
    echo "== $suite: clang not installed, skipped"
fi
echo "== $suite: $(( $(date +%s) - start )) s"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ] && [ "$total_p" -gt 0 ]
