#!/usr/bin/env bash
# Builds smbcim and runs the benchmark (figures only).  Sizes: BENCH_SIZES,
# e.g. "0.01,0.1,1" (fractions of 10k shares / 50k sessions / 100k tcons /
# 200k opens).
set -eu
cd "$(dirname "$0")/.."
make -s all
cc -std=c11 -O2 -o build/oom_guard bench/oom_guard.c build/libsmbcim.a -ltdb -lpthread
build/oom_guard
exec python3 bench/run.py --sizes "${BENCH_SIZES:-0.01,0.1,0.25,0.5,1}" "$@"
