#!/usr/bin/env bash
# Runs every test layer against the build in $BUILD (default build/):
#   1. unit tests (cmocka programs in $BUILD/tests/)
#   2. table-driven query tests over the snapshot fixtures (tests/query/)
#   3. black-box tests of the smbcim CLI (tests/blackbox/)
#   4. the library as a program links it (tests/abi/: exports, SONAME)
# and ends with one summary line: "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export SMBCIM=${SMBCIM:-$BUILD/smbcim}
export SMBCIM_SRCDIR=$PWD
passed=0
failed=0
failures=()

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    out=$("$t" 2>&1)
    rc=$?
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1 # crashed or exited non-zero without a cmocka summary
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$f" -ne 0 ]; then
        failures+=("$name")
        printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert|Sanitizer|runtime error' | head -40
    fi
    echo "unit $name: $p passed, $f failed"
done

for runner in tests/query/run_query_tests.py tests/blackbox/run_cli_tests.py tests/blackbox/run_watch_tests.py tests/abi/run_abi_tests.py; do
    [ -f "$runner" ] || continue
    out=$(python3 "$runner" 2>&1)
    rc=$?
    printf '%s\n' "$out" | grep -v '^ok ' | tail -n 60
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    p=${p:-0}
    f=${f:-0}
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -ne 0 ] && failures+=("$runner")
done

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
