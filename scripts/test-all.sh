#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. gcc build (-Werror) and every test layer      (make check)
#   2. clang build (-Werror)
#   3. the test layers again under ASan + UBSan      (make SAN=1 check)
#   4. the unit tests under valgrind (memcheck, leaks are errors)
#   5. end to end against a real smbd and real clients (tests/e2e, as root),
#      with the gcc build and again with the sanitizer build; the same
#      against real smbd 4.22 (Debian trixie) and 4.25 (sid) in chroots made
#      by scripts/chroot.sh (about 2 minutes each the first time, in the
#      background while the builds run), and a build with `make check`
#      inside each chroot; smbcimd with wbemcli, both builds; a real
#      Prometheus scraping smbcimd's /metrics; smbcim watch (event queries)
#      against a real smbd
#   6. the Debian packages (as root): built from a copy of the tree,
#      lintian, installed, used, end to end again with the installed
#      programs, purged                              (scripts/debs.sh)
#   7. a short libFuzzer run of every fuzz target    (tests/fuzz/run.sh)
# Ends with one line "N passed, N failed" over all of them.
set -u
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
total_p=0
total_f=0
san_e2e() { # san_e2e NAME ENVVAR=VALUE SCRIPT: an e2e runner with the ASan+UBSan build, quietly
    local name=$1 var=$2 script=$3
    env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$var" /usr/bin/python3 "$script" >"$log/$name" 2>&1
    grep -v '^ok ' "$log/$name" | tail -30
    add "$log/$name"
}
add() { # add "<log>"
    local line p f
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    total_p=$((total_p + ${p:-0}))
    total_f=$((total_f + ${f:-1}))
}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
# The chroots with other Samba releases are made (once) while we build.
chroot_pids=""
chroot_ok=""   # the chroots made (their e2e runs wait for them)
if [ "$(id -u)" -eq 0 ]; then
    for s in trixie sid; do
        bash scripts/chroot.sh setup "$s" >"$log/chroot-$s" 2>&1 &
        chroot_pids="$chroot_pids $!:$s"
    done
fi

echo "== gcc build and tests"
if make -j"$jobs" CC=gcc all unit >"$log/gcc-build" 2>&1; then
    make CC=gcc check 2>&1 | tee "$log/gcc"
    add "$log/gcc"
else
    tail -40 "$log/gcc-build"; total_f=$((total_f + 1))
fi

echo "== clang build (-Werror)"
if make -j"$jobs" CC=clang BUILD=build-clang all unit >"$log/clang" 2>&1; then
    echo "1 passed, 0 failed" >>"$log/clang"; echo "clang build ok"
else
    tail -40 "$log/clang"; echo "0 passed, 1 failed" >>"$log/clang"
fi
add "$log/clang"

echo "== ASan + UBSan"
if make -j"$jobs" CC=gcc SAN=1 all unit >"$log/san-build" 2>&1; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        make CC=gcc SAN=1 check 2>&1 | tee "$log/san"
    add "$log/san"
else
    tail -40 "$log/san-build"; total_f=$((total_f + 1))
fi

echo "== packaging: distribution flags, install paths (tests/abi/install_test.sh)"
bash tests/abi/install_test.sh 2>&1 | tee "$log/install"
add "$log/install"

echo "== valgrind (unit tests and a CLI run)"
vp=0; vf=0
for t in build/tests/test_*; do
    # test_oom makes allocations fail on purpose: what a failed call held
    # is lost by design (docs/decisions.md, "Out of memory")
    [ "$(basename "$t")" = test_oom ] && continue
    if SMBCIM_SRCDIR=$PWD valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$t" >"$log/vg-$(basename "$t")" 2>&1; then vp=$((vp + 1)); else vf=$((vf + 1)); tail -30 "$log/vg-$(basename "$t")"; fi
done
if valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    build/smbcim --snapshot tests/fixtures/fs01.json --format json query "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"}" >/dev/null 2>"$log/vg-cli"; then
    vp=$((vp + 1)); else vf=$((vf + 1)); cat "$log/vg-cli"; fi
echo "valgrind: $vp passed, $vf failed"
total_p=$((total_p + vp)); total_f=$((total_f + vf))

echo "== end to end: a real smbd on 127.0.0.1 with real clients"
if [ "$(id -u)" -eq 0 ]; then
    SMBCIM=$PWD/build/smbcim /usr/bin/python3 tests/e2e/run_e2e.py 2>&1 | tee "$log/e2e"
    add "$log/e2e"
    echo "== end to end again, with the ASan + UBSan build of smbcim"
    san_e2e e2e-san SMBCIM=$PWD/build-san/smbcim tests/e2e/run_e2e.py
    for cp in $chroot_pids; do
        s=${cp#*:}
        echo "== end to end against Samba in the $s chroot (the fast route expected)"
        if wait "${cp%%:*}"; then
            chroot_ok="$chroot_ok $s"
            cat "$log/chroot-$s"
            SMBCIM=$PWD/build/smbcim SMBCIM_CHROOT=$s SMBCIM_E2E_EXPECT_ROUTE=tdb \
                /usr/bin/python3 tests/e2e/run_e2e.py 2>&1 | tee "$log/e2e-$s"
            add "$log/e2e-$s"
            echo "== build and make check inside the $s chroot (its gcc, clang, expat, ...)"
            bash scripts/chroot-check.sh "$s" 2>&1 | tee "$log/build-$s" | tail -n 5
            add "$log/build-$s"
        else
            echo "chroot $s could not be made:"; tail -n 20 "$log/chroot-$s"
            total_f=$((total_f + 1))
        fi
    done
    echo "== smbcimd end to end: wbemcli over HTTP and HTTPS, PAM users, faults"
    SMBCIM_BUILD=$PWD/build /usr/bin/python3 tests/e2e/run_server_e2e.py 2>&1 | tee "$log/srv"
    add "$log/srv"
    echo "== smbcimd WS-Management: python3-winrm against POST /wsman, PAM users, faults"
    SMBCIM_BUILD=$PWD/build /usr/bin/python3 tests/e2e/run_wsman_e2e.py 2>&1 | tee "$log/wsman"
    add "$log/wsman"
    echo "== the same with the ASan + UBSan build"
    san_e2e wsman-san SMBCIM_BUILD=$PWD/build-san tests/e2e/run_wsman_e2e.py
    echo "== smbcimd as an operator meets it: start checks, reload, pid file, login budgets, mkcert"
    SMBCIM_BUILD=$PWD/build /usr/bin/python3 tests/e2e/run_operator_e2e.py 2>&1 | tee "$log/op"
    add "$log/op"
    echo "== smbcimd metrics: a real Prometheus scraping smbcimd, promtool on contrib/prometheus/"
    SMBCIM_BUILD=$PWD/build /usr/bin/python3 tests/e2e/run_metrics_e2e.py 2>&1 | tee "$log/metrics"
    add "$log/metrics"
    echo "== event queries against a real smbd: smbcim watch with clients coming and going"
    SMBCIM=$PWD/build/smbcim /usr/bin/python3 tests/e2e/run_watch_e2e.py 2>&1 | tee "$log/watch"
    add "$log/watch"
    echo "== indication subscriptions: wbemcli ci/di in root/interop, a CIM-XML listener, a real smbd"
    SMBCIM_BUILD=$PWD/build /usr/bin/python3 tests/e2e/run_indication_e2e.py 2>&1 | tee "$log/ind"
    add "$log/ind"
    echo "== the same with the ASan + UBSan build"
    san_e2e ind-san SMBCIM_BUILD=$PWD/build-san tests/e2e/run_indication_e2e.py
    echo "== a real CTDB cluster (3 nodes, one smbd each, clustering = yes): every node's answer"
    SMBCIM=$PWD/build/smbcim /usr/bin/python3 tests/e2e/run_ctdb_e2e.py 2>&1 | tee "$log/ctdb"
    add "$log/ctdb"
    echo "== the same with the ASan + UBSan build"
    san_e2e ctdb-san SMBCIM=$PWD/build-san/smbcim tests/e2e/run_ctdb_e2e.py
    for s in $chroot_ok; do
        echo "== the CTDB cluster again with the Samba and ctdb of the $s chroot (about 1-1.5 min)"
        SMBCIM=$PWD/build/smbcim SMBCIM_CHROOT=$s /usr/bin/python3 tests/e2e/run_ctdb_e2e.py 2>&1 \
            | tee "$log/ctdb-$s"
        add "$log/ctdb-$s"
    done
    echo "== smbcimd end to end again, with the ASan + UBSan build"
    san_e2e srv-san SMBCIM_BUILD=$PWD/build-san tests/e2e/run_server_e2e.py
else
    echo "e2e: skipped (needs root to run smbd and create users)"
fi

echo "== Debian packages: build, lintian, install, use, purge (scripts/debs.sh)"
if [ "$(id -u)" -eq 0 ]; then
    debs_t0=$SECONDS
    bash scripts/debs.sh 2>&1 | tee "$log/debs"
    echo "Debian packages: $((SECONDS - debs_t0)) s"
    add "$log/debs"
else
    echo "debs: skipped (needs root to install the packages)"
fi

echo "== fuzz (short runs)"
bash tests/fuzz/run.sh 2>&1 | tee "$log/fuzz"
add "$log/fuzz"

echo "== summary"
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ]
