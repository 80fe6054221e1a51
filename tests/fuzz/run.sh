#!/usr/bin/env bash
# Builds the libFuzzer targets (clang) and runs each for FUZZ_SECONDS
# (default 20) from the seeds in tests/fuzz/seeds/<target>/ and the
# fixtures.  A crash, leak, sanitizer report or timeout fails the target.
set -u
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
make -s fuzz >/tmp/smbcim-fuzz-build.log 2>&1 || { tail -30 /tmp/smbcim-fuzz-build.log; echo "0 passed, 1 failed"; exit 1; }
p=0; f=0
for bin in build-fuzz/fuzz/fuzz_*; do
    name=$(basename "$bin")
    corpus=$(mktemp -d)
    [ -d "tests/fuzz/seeds/$name" ] && cp -r "tests/fuzz/seeds/$name/." "$corpus/"
    case $name in
        fuzz_snapshot) cp tests/fixtures/*.json "$corpus/" 2>/dev/null ;;
        fuzz_mof) cp schema/*.mof "$corpus/" 2>/dev/null ;;
    esac
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix=/tmp/smbcim-"$name"- "$corpus" >/tmp/smbcim-"$name".log 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' /tmp/smbcim-"$name".log)
        echo "fuzz $name: ok, ${execs:-?} runs in ${secs}s"
        p=$((p + 1))
    else
        echo "fuzz $name: FAILED"; tail -40 /tmp/smbcim-"$name".log
        f=$((f + 1))
    fi
    rm -rf "$corpus"
done
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
