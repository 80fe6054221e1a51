#!/usr/bin/env bash
# Builds the libFuzzer targets (clang) and runs each for FUZZ_SECONDS
# (default 20) from the seeds in tests/fuzz/seeds/<target>/ and the
# fixtures; then over the large and deep inputs of big_seeds.py (up to
# 1 MiB: 110,000 ORs, 19,990 parameters, deep nesting) once each, and for
# FUZZ_BIG_SECONDS (default 10) from them with -max_len=1048576, which the
# default max_len of 4,096 bytes never reaches.  A crash, leak, sanitizer
# report or timeout fails the target.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
bigsecs=${FUZZ_BIG_SECONDS:-10}
big=$(mktemp -d)
trap 'rm -rf "$big"' EXIT
python3 tests/fuzz/big_seeds.py "$big" || { echo "0 passed, 1 failed"; exit 1; }
make -s fuzz >/tmp/smbcim-fuzz-build.log 2>&1 || { tail -30 /tmp/smbcim-fuzz-build.log; echo "0 passed, 1 failed"; exit 1; }
p=0; f=0
for bin in build-fuzz/fuzz/fuzz_*; do
    name=$(basename "$bin")
    corpus=$(mktemp -d)
    [ -d "tests/fuzz/seeds/$name" ] && cp -r "tests/fuzz/seeds/$name/." "$corpus/"
    case $name in
        fuzz_snapshot) cp tests/fixtures/*.json "$corpus/" 2>/dev/null ;;
        fuzz_mof) cp schema/*.mof "$corpus/" 2>/dev/null ;;
        fuzz_srvd_wsman) # the golden requests, as each of the three callers
            for g in tests/golden/wsman/*.request.xml; do
                for who in 0 1 2; do
                    { printf "\\$(printf %o "$who")"; cat "$g"; } >"$corpus/$who-$(basename "$g")"
                done
            done ;;
    esac
    bigc=$(mktemp -d)
    [ -d "$big/$name" ] && cp -r "$big/$name/." "$bigc/"
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=/tmp/smbcim-"$name"- "$corpus" >/tmp/smbcim-"$name".log 2>&1 &&
        { [ ! -d "$big/$name" ] || "$bin" -timeout=30 -rss_limit_mb=2048 \
            -artifact_prefix=/tmp/smbcim-"$name"-big- "$big/$name"/* >>/tmp/smbcim-"$name".log 2>&1; } &&
        "$bin" -max_total_time="$bigsecs" -max_len=1048576 -timeout=30 -rss_limit_mb=2048 \
            -print_final_stats=1 -artifact_prefix=/tmp/smbcim-"$name"-big- "$bigc" "$corpus" \
            >/tmp/smbcim-"$name"-big.log 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' /tmp/smbcim-"$name".log)
        bexecs=$(sed -n 's/^stat::number_of_executed_units: *//p' /tmp/smbcim-"$name"-big.log)
        nbig=$(ls "$big/$name" 2>/dev/null | wc -l)
        echo "fuzz $name: ok, ${execs:-?} runs in ${secs}s; $nbig large inputs; ${bexecs:-?} runs up to 1 MiB in ${bigsecs}s"
        p=$((p + 1))
    else
        echo "fuzz $name: FAILED"; tail -40 /tmp/smbcim-"$name".log
        tail -20 /tmp/smbcim-"$name"-big.log 2>/dev/null
        f=$((f + 1))
    fi
    rm -rf "$corpus" "$bigc"
done
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
