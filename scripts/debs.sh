#!/usr/bin/env bash
# The Debian packages (debian/): builds them with dpkg-buildpackage from a
# copy of the work tree (git's tracked and untracked-but-not-ignored files,
# so that a local run with uncommitted changes and CI's clean clone build the
# same thing, and build/ is left alone), runs lintian on the result (errors
# fail), then, as root, installs libsmbcim0, libsmbcim-dev, smbcim and
# smbcimd with apt-get, checks that what they installed works (the CLI on a
# snapshot, a program built with pkg-config against the installed library,
# smbcimd and its PAM helper, the unit, the conffiles), runs the end-to-end
# tests against the installed programs, and purges the packages again with
# whatever apt-get brought in for them: the machine is left as it was.
# Needs dpkg-dev, debhelper, fakeroot and lintian (scripts/deps.sh).
# SMBCIM_DEBS_E2E=0 skips the end-to-end tests; SMBCIM_DEBS_KEEP=1 keeps the
# build directory (the .debs, build.log, lintian.log) and says where.  Ends with
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.." || exit 1
top=$PWD
p=0; f=0
ok() { echo "ok   $1"; p=$((p + 1)); }
bad() { echo "FAIL $1"; f=$((f + 1)); }
t() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
finish() { echo "$p passed, $f failed"; [ "$f" -eq 0 ]; exit; }
phase_start=$SECONDS
phase() { echo "-- $1 ($((SECONDS - phase_start)) s so far)"; }

PKGS="libsmbcim0 libsmbcim-dev smbcim smbcimd"
# Set while the packages are installed: a run that was interrupted then is
# cleaned up by the next one.
STAMP=/run/smbcim-debs.installed
is_root=0; [ "$(id -u)" -eq 0 ] && is_root=1

for tool in dpkg-buildpackage dh lintian fakeroot git; do
    command -v "$tool" >/dev/null || { bad "$tool is missing (bash scripts/deps.sh)"; finish; }
done

work=$(mktemp -d /tmp/smbcim-debs.XXXXXX)
installed=0
saved=()   # /etc files that were there before, put back after the purge
# smbcimd's postinst creates the system group smbcim-admins (kept on purge,
# as Debian keeps system groups): removed again if this run made it
group_before=0
getent group smbcim-admins >/dev/null && group_before=1

purge() { # purge PKG...: removes them with their conffiles, quietly
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$@" >"$work/purge.log" 2>&1
}
cleanup() {
    if [ "$installed" = 1 ]; then
        purge $(cat "$work/new-pkgs") || cat "$work/purge.log"
        rm -f "$STAMP"
        [ "$group_before" = 1 ] || groupdel smbcim-admins 2>/dev/null || true
    fi
    local s
    for s in "${saved[@]}"; do
        mkdir -p "$(dirname "$s")" && mv "$work/saved$s" "$s"
    done
    if [ "${SMBCIM_DEBS_KEEP:-0}" = 1 ]; then echo "debs: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# ---- build ------------------------------------------------------------------
v_h=$(sed -n 's/^#define SMBCIM_VERSION_\(MAJOR\|MINOR\|PATCH\) *\([0-9]*\).*/\2/p' include/smbcim.h | paste -sd.)
v_deb=$(dpkg-parsechangelog -S Version)
t "debian/changelog's version ($v_deb) is smbcim.h's ($v_h)" '[ "$v_deb" = "$v_h" ]'

src=$work/smbcim-$v_deb
mkdir -p "$src"
git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' fn; do
        case "$fn" in build*/* | */__pycache__/* | *.pyc) continue ;; esac
        # tracked but deleted in the work tree: not part of it
        if [ -e "$fn" ] || [ -L "$fn" ]; then printf '%s\0' "$fn"; fi
    done | tar -c --null -T - -f - | tar -x -C "$src" -f -
t "the tree copied (git ls-files: tracked and untracked, not ignored)" "[ -x '$src/debian/rules' ] && [ -f '$src/include/smbcim.h' ]"

phase "dpkg-buildpackage"
# Source and binary packages: the source package lets lintian check
# debian/ itself; `dpkg-buildpackage -b` builds the same .debs.
if (cd "$src" && dpkg-buildpackage -us -uc -Jauto) >"$work/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc (make check ran in dh_auto_test: $(grep -E '^[0-9]+ passed, 0 failed' "$work/build.log" | tail -1))"
else
    bad "dpkg-buildpackage -us -uc"; tail -40 "$work/build.log"; finish
fi
grep -E 'dpkg-gensymbols: warning|dh_missing: (warning|error)' "$work/build.log" | head -20
changes=$work/smbcim_${v_deb}_$(dpkg-architecture -qDEB_HOST_ARCH).changes
for pkg in $PKGS; do
    t "$pkg .deb built" "ls '$work'/${pkg}_${v_deb}_*.deb >/dev/null 2>&1"
done

phase "lintian"
# Errors fail; warnings and the rest are shown (debian/*.lintian-overrides
# say why the overridden ones are false).
lintian --display-info --pedantic --display-experimental --show-overrides \
    --tag-display-limit 0 --fail-on error \
    "$changes" >"$work/lintian.log" 2>&1
lrc=$?
# every tag it reports; the overridden ones only counted
grep -Ev '^(running with root privileges|O: |N: )' "$work/lintian.log"
echo "lintian: $(grep -c '^E:' "$work/lintian.log") errors, $(grep -c '^W:' "$work/lintian.log") warnings, $(grep -Ec '^[IPX]:' "$work/lintian.log") other tags, $(grep -c '^O:' "$work/lintian.log") overridden (debian/*.lintian-overrides)"
t "lintian: no errors (source and binary packages)" "[ $lrc -eq 0 ] && ! grep -q '^E:' '$work/lintian.log'"

# ---- what each package holds (no root needed) ------------------------------
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
has() { # has PKG PATH-REGEX: the .deb holds such a file
    dpkg-deb -c "$work/${1}_${v_deb}_"*.deb | awk '{print $6}' | grep -Eq "^\./$2\$"
}
t "libsmbcim0: the library and its SONAME link in /usr/lib/$ma" \
    "has libsmbcim0 'usr/lib/$ma/libsmbcim\\.so\\.0\\.[0-9.]+' && has libsmbcim0 'usr/lib/$ma/libsmbcim\\.so\\.0'"
t "libsmbcim-dev: smbcim.h, libsmbcim.so and smbcim.pc (multiarch), no static library" \
    "has libsmbcim-dev usr/include/smbcim.h && has libsmbcim-dev 'usr/lib/$ma/libsmbcim\\.so' && has libsmbcim-dev 'usr/lib/$ma/pkgconfig/smbcim\\.pc' && ! has libsmbcim-dev '.*\\.a'"
t "smbcim: the CLI, smbcim(1), the MOF schema and the bash completion" \
    "has smbcim usr/bin/smbcim && has smbcim 'usr/share/man/man1/smbcim\\.1\\.gz' && has smbcim 'usr/share/smbcim/schema/[^/]+\\.mof' && has smbcim usr/share/bash-completion/completions/smbcim"
t "smbcimd: server, PAM helper, smbcimd-mkcert, man pages, unit, configuration" \
    "has smbcimd usr/sbin/smbcimd && has smbcimd usr/libexec/smbcim/smbcimd-auth && has smbcimd usr/sbin/smbcimd-mkcert && has smbcimd 'usr/share/man/man8/smbcimd\\.8\\.gz' && has smbcimd 'usr/share/man/man8/smbcimd-mkcert\\.8\\.gz' && has smbcimd '(usr/)?lib/systemd/system/smbcimd\\.service' && has smbcimd etc/smbcim/smbcimd.conf && has smbcimd etc/pam.d/smbcimd"
t "smbcimd: the Prometheus examples (scrape configuration, rules and their tests)" \
    "has smbcimd 'usr/share/doc/smbcimd/examples/prometheus\\.yml(\\.gz)?' && has smbcimd 'usr/share/doc/smbcimd/examples/smbcim-rules\\.yml(\\.gz)?' && has smbcimd 'usr/share/doc/smbcimd/examples/smbcim-rules\\.test\\.yml(\\.gz)?'"
conff=$(dpkg-deb --ctrl-tarfile "$work"/smbcimd_"${v_deb}"_*.deb | tar -xOf - ./conffiles 2>/dev/null)
t "smbcimd: smbcimd.conf and the PAM file are conffiles" \
    "echo '$conff' | grep -qx /etc/smbcim/smbcimd.conf && echo '$conff' | grep -qx /etc/pam.d/smbcimd"
# (that it is not enabled either is checked once installed)
dpkg-deb -I "$work"/smbcimd_"${v_deb}"_*.deb postinst >"$work/postinst" 2>&1
t "smbcimd: the unit is not started on install, only try-restarted on upgrade" \
    "grep -q 'deb-systemd-invoke try-restart' '$work/postinst' && ! grep -Eq 'deb-systemd-invoke (start|restart|\\\$_dh_action)' '$work/postinst'"

if [ "$is_root" != 1 ]; then
    echo "debs: installing skipped (needs root)"
    finish
fi

# ---- install ----------------------------------------------------------------
phase "apt-get install"
if [ -e "$STAMP" ]; then
    echo "debs: purging what an interrupted run left installed: $(cat "$STAMP")"
    purge $(cat "$STAMP") || cat "$work/purge.log"
    rm -f "$STAMP"
fi
pre=$(dpkg-query -W -f='${Package}\n' $PKGS 2>/dev/null | while read -r q; do
    dpkg-query -W -f='${Status}' "$q" | grep -q ' installed$' && echo "$q"; done)
if [ -n "$pre" ]; then
    bad "not installing: ${pre//$'\n'/ } already installed here (not ours to replace or purge)"
    finish
fi
# Files of ours that something else left in /etc (e.g. `make install`, an
# interrupted server e2e): moved aside, put back after the purge.
for s in /etc/smbcim /etc/pam.d/smbcimd; do
    if [ -e "$s" ]; then
        mkdir -p "$work/saved$(dirname "$s")" && mv "$s" "$work/saved$s" && saved+=("$s")
    fi
done
dpkg-query -W -f='${Package}:${Architecture} ${db:Status-Abbrev}\n' | awk '$2 ~ /^.i/ {print $1}' | sort >"$work/before"
debs=()
for pkg in $PKGS; do debs+=("$(ls "$work"/${pkg}_${v_deb}_*.deb)"); done
echo "$PKGS" >"$STAMP"
installed=1
if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" >"$work/install.log" 2>&1; then
    ok "apt-get install ./libsmbcim0 ./libsmbcim-dev ./smbcim ./smbcimd .debs"
else
    bad "apt-get install"; tail -30 "$work/install.log"
fi
dpkg-query -W -f='${Package}:${Architecture} ${db:Status-Abbrev}\n' | awk '$2 ~ /^.i/ {print $1}' | sort >"$work/after"
comm -13 "$work/before" "$work/after" >"$work/new-pkgs"
tr '\n' ' ' <"$work/new-pkgs" >"$STAMP"
echo "installed: $(tr '\n' ' ' <"$work/new-pkgs")"

# ---- the installed programs -------------------------------------------------
phase "checks of the installed packages"
fx=$top/tests/fixtures/fs01.json
out=$(/usr/bin/smbcim --snapshot "$fx" query 'SELECT * FROM Win32_Share' 2>&1)
t "/usr/bin/smbcim --snapshot fs01.json query 'SELECT * FROM Win32_Share'" \
    "echo \"\$out\" | grep -q 'Projects' && echo \"\$out\" | grep -q 'IPC\\$'"
t "/usr/bin/smbcim --version says $v_deb" "/usr/bin/smbcim --version 2>&1 | grep -q '$v_deb'"
t "the package made the admin group smbcimd needs (smbcim-admins)" "getent group smbcim-admins >/dev/null"
t "the package made the system user smbcimd's worker runs as (smbcim, no shell)" \
    "getent passwd smbcim | grep -q ':/nonexistent:/usr/sbin/nologin$'"
t "smbcim(1) installed for man" "man -w smbcim 2>/dev/null | grep -q /usr/share/man/man1/smbcim.1"
t "the MOF schema in /usr/share/smbcim/schema" "[ \$(ls /usr/share/smbcim/schema/*.mof | wc -l) -eq \$(ls '$top'/schema/*.mof | wc -l) ]"

pc=$(pkg-config --cflags --libs smbcim 2>&1)
t "pkg-config --cflags --libs smbcim: -lsmbcim ($pc)" "echo '$pc' | grep -q -- -lsmbcim"
t "pkg-config --modversion smbcim is $v_deb" "[ \"\$(pkg-config --modversion smbcim)\" = '$v_deb' ]"
cat >"$work/app.c" <<'EOF'
#include <smbcim.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    smbcim_error err;
    if (argc != 2)
        return 2;
    smbcim_ctx *ctx = smbcim_open_snapshot(argv[1], &err);
    if (!ctx) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    smbcim_result *res = NULL;
    if (smbcim_exec_query(ctx, "SELECT Name, Path FROM Win32_Share WHERE Name = 'Projects'",
                          &res, &err) != WBEM_S_NO_ERROR) {
        fprintf(stderr, "query: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < res->count; i++) {
        char *name = smbcim_value_text(smbcim_instance_get(res->instances[i], "Name"));
        char *path = smbcim_value_text(smbcim_instance_get(res->instances[i], "Path"));
        printf("%s %s\n", name, path);
        free(name);
        free(path);
    }
    printf("libsmbcim %s\n", smbcim_version());
    smbcim_result_free(res);
    smbcim_close(ctx);
    return 0;
}
EOF
# shellcheck disable=SC2046
t "a program builds against the installed smbcim.h and libsmbcim.so (pkg-config)" \
    "cc -std=c11 -Wall -Wextra -Werror -o '$work/app' '$work/app.c' \$(pkg-config --cflags --libs smbcim) 2>&1"
# (/lib is /usr/lib: ldconfig may name either)
t "... it links /usr/lib/$ma/libsmbcim.so.0" "ldd '$work/app' | grep -Eq '=> (/usr)?/lib/$ma/libsmbcim\\.so\\.0 '"
aout=$("$work/app" "$fx" 2>&1)
t "... and runs: a query through the library (${aout//$'\n'/, })" \
    "echo \"\$aout\" | grep -q '^Projects /' && echo \"\$aout\" | grep -qx 'libsmbcim $v_deb'"

t "smbcimd --help" "/usr/sbin/smbcimd --help 2>&1 | grep -q '^usage: smbcimd'"
t "smbcimd --version says $v_deb" "/usr/sbin/smbcimd --version 2>&1 | grep -q '$v_deb'"
t "smbcimd looks for its PAM helper in /usr/libexec/smbcim, where it is" \
    "strings /usr/sbin/smbcimd | grep -qx /usr/libexec/smbcim && [ -x /usr/libexec/smbcim/smbcimd-auth ]"
t "smbcimd reads /etc/smbcim/smbcimd.conf by default" \
    "/usr/sbin/smbcimd --help | grep -q '/etc/smbcim/smbcimd.conf' && [ -f /etc/smbcim/smbcimd.conf ] && [ -f /etc/pam.d/smbcimd ]"
t "smbcimd: its conffiles registered with dpkg" \
    "dpkg-query -W -f='\${Conffiles}' smbcimd | grep -q /etc/smbcim/smbcimd.conf"
unit=$(dpkg -L smbcimd | grep '/systemd/system/smbcimd.service$')
t "the unit ($unit) runs /usr/sbin/smbcimd and makes the certificate first" \
    "[ -f '$unit' ] && grep -qx 'ExecStart=/usr/sbin/smbcimd --foreground --config /etc/smbcim/smbcimd.conf' '$unit' && grep -q '^ExecStartPre=/usr/sbin/smbcimd-mkcert --if-missing /etc/smbcim/tls' '$unit'"
t "the unit is installed disabled (systemctl is-enabled: disabled)" \
    "[ \"\$(systemctl is-enabled smbcimd.service 2>&1)\" = disabled ] && ! ls /etc/systemd/system/*.wants/smbcimd.service >/dev/null 2>&1"
if command -v systemd-analyze >/dev/null; then
    t "systemd-analyze verify $unit" "systemd-analyze verify '$unit' >'$work/verify.log' 2>&1 || { cat '$work/verify.log'; false; }"
fi
t "smbcimd-mkcert writes a certificate and a key only root and group smbcim (the worker) read" \
    "/usr/sbin/smbcimd-mkcert '$work/tls' >/dev/null && openssl x509 -noout -in '$work/tls/cert.pem' && [ \"\$(stat -c %a:%U:%G '$work/tls/key.pem')\" = 640:root:smbcim ]"

# ---- end to end against the installed programs ------------------------------
if [ "${SMBCIM_DEBS_E2E:-1}" != 0 ]; then
    phase "end to end: /usr/bin/smbcim against a real smbd"
    SMBCIM=/usr/bin/smbcim /usr/bin/python3 tests/e2e/run_e2e.py >"$work/e2e" 2>&1
    grep -v '^ok ' "$work/e2e" | tail -30 | sed 's/^/    /'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/e2e" | tail -1)
    t "tests/e2e/run_e2e.py with SMBCIM=/usr/bin/smbcim (${line:-no summary})" "echo '$line' | grep -q ' 0 failed' && ! echo '$line' | grep -q '^0 passed'"
    phase "smbcimd end to end: /usr/sbin/smbcimd with wbemcli"
    # run_server_e2e.py runs SMBCIM_BUILD/smbcimd and SMBCIM_BUILD/smbcim:
    # links to the installed ones.  smbcimd finds its helper next to
    # /proc/self/exe (/usr/sbin, none there), then in /usr/libexec/smbcim,
    # so the installed helper and PAM file are what these tests use.
    mkdir -p "$work/bin"
    ln -s /usr/sbin/smbcimd "$work/bin/smbcimd"
    ln -s /usr/bin/smbcim "$work/bin/smbcim"
    SMBCIM_BUILD=$work/bin /usr/bin/python3 tests/e2e/run_server_e2e.py >"$work/srv" 2>&1
    grep -v '^ok ' "$work/srv" | tail -30 | sed 's/^/    /'
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$work/srv" | tail -1)
    t "tests/e2e/run_server_e2e.py with /usr/sbin/smbcimd (${line:-no summary})" "echo '$line' | grep -q ' 0 failed' && ! echo '$line' | grep -q '^0 passed'"
    t "the PAM file of the package is still there after it" "[ -f /etc/pam.d/smbcimd ]"
fi

# ---- purge --------------------------------------------------------------------
phase "apt-get purge"
if purge $(cat "$work/new-pkgs"); then
    installed=0; rm -f "$STAMP"
    ok "apt-get purge $(tr '\n' ' ' <"$work/new-pkgs")"
else
    bad "apt-get purge"; cat "$work/purge.log"
fi
t "nothing left: programs, library, /etc/smbcim, PAM file" \
    "! [ -e /usr/bin/smbcim ] && ! [ -e /usr/sbin/smbcimd ] && ! ls /usr/lib/$ma/libsmbcim* >/dev/null 2>&1 && ! [ -e /etc/smbcim ] && ! [ -e /etc/pam.d/smbcimd ] && ! [ -e /usr/libexec/smbcim ]"
dpkg-query -W -f='${Package}:${Architecture} ${db:Status-Abbrev}\n' | awk '$2 ~ /^.i/ {print $1}' | sort >"$work/end"
t "the installed packages are those from before" "cmp -s '$work/before' '$work/end' || { diff '$work/before' '$work/end'; false; }"
phase "done"
finish
