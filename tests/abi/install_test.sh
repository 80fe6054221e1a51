#!/usr/bin/env bash
# What a packager does: build with dpkg-buildflags-style CPPFLAGS/CFLAGS/
# LDFLAGS and without -Werror, then `make install` with another PREFIX into
# a DESTDIR.  Checks that every compiled-in path and smbcim.pc follow the
# PREFIX given at install time, that the flags reached every program (the
# PAM helper included), and where each file lands.  Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
b=build-install-test
root=$(mktemp -d)
trap 'rm -rf "$root" "$b"' EXIT
p=0; f=0
ok() { echo "ok   $1"; p=$((p + 1)); }
bad() { echo "FAIL $1"; f=$((f + 1)); }
t() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

flags=(CPPFLAGS="-D_FORTIFY_SOURCE=2" CFLAGS="-O2 -g -fstack-protector-strong"
       LDFLAGS="-Wl,-z,relro -Wl,-z,now" WERROR=)
if ! make -s -j"$(nproc)" BUILD=$b "${flags[@]}" all >"$root/build.log" 2>&1; then
    tail -30 "$root/build.log"; echo "0 passed, 1 failed"; exit 1
fi
t "WERROR= builds without -Werror" "! make -n BUILD=$b WERROR= $b/obj/src/cli/main.o -B 2>/dev/null | grep -q -- -Werror"
t "-Werror by default" "make -n BUILD=$b $b/obj/src/cli/main.o -B 2>/dev/null | grep -q -- -Werror"
for bin in smbcim smbcimd smbcimd-auth libsmbcim.so; do
    t "$bin: relro and now (LDFLAGS)" "readelf -d $b/$bin | grep -q BIND_NOW && readelf -l $b/$bin | grep -q GNU_RELRO"
done
t "smbcimd-auth: stack protector (CFLAGS)" "nm -D $b/smbcimd-auth | grep -q __stack_chk_fail"
t "smbcimd: fortified calls (CPPFLAGS)" "nm -D $b/smbcimd | grep -q '__[a-z]*_chk'"
# built for /usr/local, installed for /opt/smbcim-test: rebuilt with the new paths
pre=/opt/smbcim-test
if ! make -s BUILD=$b "${flags[@]}" PREFIX=$pre DESTDIR="$root/d" install >"$root/inst.log" 2>&1; then
    tail -30 "$root/inst.log"; bad "make install PREFIX=$pre"
fi
d="$root/d$pre"
t "smbcimd looks for its helper under the install PREFIX" "strings $d/sbin/smbcimd | grep -qx '$pre/libexec/smbcim' && ! strings $d/sbin/smbcimd | grep -q /usr/local/libexec"
t "the helper is installed there" "[ -x $d/libexec/smbcim/smbcimd-auth ]"
t "smbcim.pc says the install PREFIX" "grep -qx 'prefix=$pre' $d/lib/pkgconfig/smbcim.pc && grep -qx 'libdir=$pre/lib' $d/lib/pkgconfig/smbcim.pc"
t "the library with its links" "[ -f $d/lib/libsmbcim.so.0.1.0 ] && [ \"\$(readlink $d/lib/libsmbcim.so.0)\" = libsmbcim.so.0.1.0 ] && [ \"\$(readlink $d/lib/libsmbcim.so)\" = libsmbcim.so.0 ]"
t "the unit goes under the PREFIX and runs the installed smbcimd" "grep -q 'ExecStart=$pre/sbin/smbcimd' $d/lib/systemd/system/smbcimd.service"
t "the unit only orders itself after smbd (no Wants=)" "! grep -q '^Wants=smbd' $d/lib/systemd/system/smbcimd.service"
t "the bash completion under the PREFIX" "[ -f $d/share/bash-completion/completions/smbcim ]"
t "licence and docs installed" "[ -f $d/share/doc/smbcim/LICENSE ] && [ -f $d/share/doc/smbcim/wql.md ]"
t "the configuration under SYSCONFDIR (default /etc)" "[ -f $root/d/etc/smbcim/smbcimd.conf ] && [ -f $root/d/etc/pam.d/smbcimd ]"
make -s BUILD=$b "${flags[@]}" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu DESTDIR="$root/m" install >/dev/null 2>&1
t "LIBDIR for multiarch" "[ -f $root/m/usr/lib/x86_64-linux-gnu/libsmbcim.so.0.1.0 ] && grep -qx 'libdir=/usr/lib/x86_64-linux-gnu' $root/m/usr/lib/x86_64-linux-gnu/pkgconfig/smbcim.pc"
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
