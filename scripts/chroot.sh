#!/usr/bin/env bash
# Debian chroots with other Samba releases, for the tests and the benchmarks.
#
#   scripts/chroot.sh setup SUITE     make (once) the chroot of SUITE: trixie
#                                     (Samba 4.22) or sid (Samba 4.25)
#   scripts/chroot.sh path SUITE      print its directory
#   scripts/chroot.sh run SUITE CMD.. run CMD inside it (mounts /proc and
#                                     /dev/pts-less /dev on first use)
#   scripts/chroot.sh umount SUITE    undo those mounts
#
# Idempotent: a chroot that is complete (stamp file with the same package
# list) is not touched again.  Directory: $SMBCIM_CHROOTS (default
# /var/cache/smbcim/chroots).  Needs root and a Debian mirror
# ($SMBCIM_MIRROR, default http://deb.debian.org/debian).
set -eu
BASE=${SMBCIM_CHROOTS:-/var/cache/smbcim/chroots}
MIRROR=${SMBCIM_MIRROR:-http://deb.debian.org/debian}
# What every chroot needs: smbd and its tools, ndrdump (samba-testsuite) to
# decode records with that release's own IDL, python3-tdb for the tests,
# and what building and `make check` need (the build runs there too).
PKGS="samba,smbclient,ctdb,libtdb1,tdb-tools,python3,python3-tdb,samba-testsuite,procps,\
build-essential,pkg-config,libtdb-dev,libexpat1-dev,libmicrohttpd-dev,libcurl4-gnutls-dev,libpam0g-dev,\
libgnutls28-dev,libcmocka-dev,clang"

usage() { sed -n '2,14p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1; suite=$2; shift 2
case "$suite" in trixie|sid) ;; *) echo "chroot.sh: unknown suite '$suite' (trixie or sid)" >&2; exit 2;; esac
dir=$BASE/$suite
stamp=$dir/.smbcim-chroot

mounted() { mountpoint -q "$dir/$1"; }
do_mounts() {
    mounted proc || mount -t proc proc "$dir/proc"
    mounted dev || mount --bind /dev "$dir/dev"
}
do_umounts() {
    for m in dev proc; do
        if [ -d "$dir/$m" ] && mounted "$m"; then umount -l "$dir/$m"; fi
    done
}

case "$cmd" in
path) echo "$dir" ;;
setup)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PKGS" ]; then
        echo "chroot $suite: ready ($dir)"; exit 0
    fi
    [ "$(id -u)" -eq 0 ] || { echo "chroot.sh: setup needs root" >&2; exit 1; }
    command -v debootstrap >/dev/null || {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
    do_umounts
    start=$(date +%s)
    if ! [ -f "$dir/.debootstrap-done" ]; then
        rm -rf "$dir"; mkdir -p "$dir"
        # Only the base system here: debootstrap's own resolver does not
        # know virtual packages (python3-cryptography needs one); apt does.
        debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" \
            >"$BASE/$suite.log" 2>&1 || { tail -n 20 "$BASE/$suite.log" >&2; exit 1; }
        touch "$dir/.debootstrap-done"
    fi
    # The mirror may be a frozen snapshot whose Release files have expired.
    echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99smbcim"
    do_mounts
    chroot "$dir" env DEBIAN_FRONTEND=noninteractive sh -c \
        "dpkg --configure -a >/dev/null 2>&1; apt-get update -qq && apt-get install -y -qq -f && apt-get install -y -qq --no-install-recommends $(echo "$PKGS" | tr ',' ' ')" \
        >>"$BASE/$suite.log" 2>&1 || { do_umounts; tail -n 20 "$BASE/$suite.log" >&2; exit 1; }
    do_umounts
    # smbd does a DNS lookup of the host name on every session set-up.
    h=$(hostname)
    grep -qw "$h" "$dir/etc/hosts" 2>/dev/null || echo "127.0.0.1 $h localhost" >>"$dir/etc/hosts"
    # Nothing in the chroot starts services by itself.
    rm -f "$dir/run/samba/"*.pid 2>/dev/null || true
    echo "$PKGS" >"$stamp"
    echo "chroot $suite: made in $(( $(date +%s) - start )) s ($dir, $(chroot "$dir" smbd --version))"
    ;;
run)
    [ -f "$stamp" ] || { echo "chroot.sh: $suite is not set up (scripts/chroot.sh setup $suite)" >&2; exit 1; }
    do_mounts
    exec chroot "$dir" "$@"
    ;;
umount) do_umounts ;;
*) usage ;;
esac
