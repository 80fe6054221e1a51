#!/usr/bin/env python3
"""smbcim benchmark: snapshots of growing size, timed by phase.

For each size it generates a snapshot (bench/gen_snapshot.py), then runs,
in the same run and on the same file:
  - python3 json.load of the file (the yardstick),
  - smbcim enum Win32_ConnectionShare --format json,
  - smbcim query "SELECT * FROM Win32_ServerConnection WHERE NumberOfFiles > 0",
  - smbcim query ASSOCIATORS OF {Win32_Share.Name="<one share>"},
  - smbcim query SELECT * FROM Win32_Share WHERE Name='<that share>',
and prints wall time, the load/evaluate/format phases (SMBCIM_TIMING) and
peak RSS of each, plus the ratios the targets are stated in.  Figures only;
nothing here passes or fails.

usage: bench/run.py [--sizes 0.01,0.1,0.5,1] [--repeat N]
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
FULL = (10000, 50000, 100000, 200000)


def run(argv, env=None):
    """Runs argv; returns (wall seconds, peak RSS KiB, stdout bytes, stderr)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out_len = 0
    while True:
        chunk = p.stdout.read(1 << 20)
        if not chunk:
            break
        out_len += len(chunk)
    err = p.stderr.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"command failed: {' '.join(argv)}\n{err}")
    return wall, ru.ru_maxrss, out_len, err


def phases(err):
    m = re.search(r"load ([0-9.]+) s, evaluate ([0-9.]+) s, format ([0-9.]+) s", err)
    return tuple(float(x) for x in m.groups()) if m else (0, 0, 0)


def best(fn, repeat):
    results = [fn() for _ in range(repeat)]
    return min(results, key=lambda r: r[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="0.01,0.1,0.25,0.5,1")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    outdir = os.path.join(HERE, "out")
    os.makedirs(outdir, exist_ok=True)
    env = dict(os.environ, SMBCIM_TIMING="1")
    print(f"smbcim benchmark on {os.cpu_count()} cores; best of {args.repeat}")
    rows = []
    for f in (float(x) for x in args.sizes.split(",")):
        n = tuple(max(2, int(x * f)) for x in FULL)
        path = os.path.join(outdir, "snap-%d-%d-%d-%d.json" % n)
        if not os.path.exists(path):
            with open(path + ".tmp", "w") as fh:
                subprocess.run([sys.executable, os.path.join(HERE, "gen_snapshot.py")] +
                               [str(x) for x in n], stdout=fh, check=True)
            os.rename(path + ".tmp", path)
        size_mb = os.path.getsize(path) / 1e6
        share = "share%05d" % (n[0] // 2)
        py = best(lambda: run([sys.executable, "-c",
                               "import json,sys; json.load(open(sys.argv[1]))", path]), args.repeat)
        cases = [
            ("enum ConnectionShare json", ["--format", "json", "enum", "Win32_ConnectionShare"]),
            ("ServerConnection NumberOfFiles>0", ["--format", "json", "query",
             "SELECT * FROM Win32_ServerConnection WHERE NumberOfFiles > 0"]),
            ("ASSOCIATORS OF one share", ["--format", "json", "query",
             'ASSOCIATORS OF {Win32_Share.Name="%s"}' % share]),
            ("SELECT that share", ["--format", "json", "query",
             "SELECT * FROM Win32_Share WHERE Name='%s'" % share]),
        ]
        print(f"\n== {n[0]} shares, {n[1]} sessions, {n[2]} tcons, {n[3]} opens: {size_mb:.1f} MB")
        print(f"  python json.load            {py[0]:8.3f} s   peak {py[1] / 1024:8.1f} MiB")
        res = {}
        for name, argv in cases:
            r = best(lambda: run([SMBCIM, "--snapshot", path] + argv, env), args.repeat)
            ld, ev, fm = phases(r[3])
            res[name] = r
            print(f"  {name:28s}{r[0]:8.3f} s   peak {r[1] / 1024:8.1f} MiB   "
                  f"(load {ld:.3f}, evaluate {ev:.3f}, format {fm:.3f}; out {r[2] / 1e6:.1f} MB)"
                  f"   {r[0] / py[0]:.2f}x json.load, memory {r[1] * 1024 / 1e6 / size_mb:.2f}x file")
        a, s = res["ASSOCIATORS OF one share"][0], res["SELECT that share"][0]
        print(f"  ASSOCIATORS / SELECT ratio   {a / s:.2f}")
        rows.append((size_mb, res["enum ConnectionShare json"][0]))
    if len(rows) > 1:
        print("\nlinearity (enum ConnectionShare json, seconds per MB of snapshot):")
        for mb, t in rows:
            print(f"  {mb:8.1f} MB  {t / mb * 1000:7.2f} ms/MB")


if __name__ == "__main__":
    main()
