#!/usr/bin/env python3
"""Live-source benchmark: smbcim against smbstatus on a real smbd.

    python3 bench/live.py [--sizes 1,10,100,500,1000] [--runs 15]    (as root)

Starts a throwaway smbd (demo/lib.sh), then grows the number of real
clients held by python3-impacket (tests/e2e/smb_holder.py) through the
sizes.  Each client is its own TCP connection from its own loopback address
(127.0.x.y, so smbd sees N client machines), with one session as
smbcim_alice, two tree connects (Projects, backup$) and one file open on
each: N sessions, 2N tree connects, 2N opens.

For each N, in the same run, each command is timed as a whole process
(wall clock, fork to exit, output to a pipe):
  smbcim --smb-conf CONF query "SELECT * FROM Win32_ConnectionShare"
  smbstatus -s CONF            (plain text, all sections)
  smbstatus -s CONF --json     (all sections)
and the output is checked: smbcim must report 2N connections.  Prints a
table of median (minimum) milliseconds and the ratios; nothing is asserted.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import run_e2e as e2e  # noqa: E402  (Server, Holder)

SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))


def timed(argv, runs, env=None):
    times = []
    out = None
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        times.append((time.perf_counter() - t0) * 1000.0)
        out = p
    return statistics.median(times), min(times), out


def client(i):
    a = 1 + i // 250
    b = 1 + i % 250
    return {"name": "c%d" % i, "user": "smbcim_alice", "source": "127.0.%d.%d" % (a, b),
            "trees": [{"share": "Projects", "files": ["bench_%d_a.txt" % i]},
                      {"share": "backup$", "files": ["bench_%d_b.txt" % i]}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,100,500,1000")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    if os.geteuid() != 0:
        print("bench/live.py: run as root", file=sys.stderr)
        return 1
    server = e2e.Server()
    holders = []
    rows = []
    try:
        have = 0
        for n in sizes:
            want = [client(i) for i in range(have, n)]
            if want:
                t0 = time.time()
                holders.append(e2e.Holder(server, want, "bench%d" % n,
                                          timeout=60 + len(want) // 5))
                print("bench: %d clients connected (%d new in %.0f s)"
                      % (n, len(want), time.time() - t0), file=sys.stderr, flush=True)
            have = n
            q = "SELECT * FROM Win32_ConnectionShare"
            sm, smin, sp = timed([SMBCIM, "--smb-conf", server.conf, "--format", "csv",
                                  "query", q], args.runs)
            lines = sp.stdout.decode().count("\n") - 1 if sp.returncode == 0 else -1
            # smbcim's own phases (one run)
            tp = subprocess.run([SMBCIM, "--smb-conf", server.conf, "--format", "csv",
                                 "query", q], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=dict(os.environ, SMBCIM_TIMING="1"))
            phases = [l for l in tp.stderr.decode().splitlines() if "timing" in l]
            pm, pmin, _ = timed(["smbstatus", "-s", server.conf], max(3, args.runs // 3))
            jruns = 5 if n <= 100 else (2 if n <= 500 else 1)
            jm, jmin, jp = timed(["smbstatus", "-s", server.conf, "--json"], jruns)
            rows.append((n, sm, smin, pm, pmin, jm, jmin, lines, jp.returncode))
            print("bench: N=%d smbcim %.1f ms (%s), smbstatus %.1f ms, --json %.1f ms, "
                  "connections reported %d (want %d)%s"
                  % (n, sm, phases[0].split("timing: ")[-1] if phases else "?", pm, jm, lines,
                     2 * n, "" if lines == 2 * n else "  <-- MISMATCH"),
                  file=sys.stderr, flush=True)
    finally:
        for h in holders:
            h.stop()
        server.stop()
    print()
    print("| N clients | smbcim query | plain smbstatus | smbstatus --json | "
          "plain / smbcim | --json / smbcim | connections reported |")
    print("|---|---|---|---|---|---|---|")
    for n, sm, smin, pm, pmin, jm, jmin, lines, jrc in rows:
        print("| %d | %.1f (%.1f) | %.1f (%.1f) | %.1f (%.1f)%s | %.1f× | %.0f× | %d / %d |"
              % (n, sm, smin, pm, pmin, jm, jmin, "" if jrc == 0 else " exit %d" % jrc,
                 pm / sm, jm / sm, lines, 2 * n))
    print("\nms, median (minimum); each a whole process run.  smbcim: %d runs per size."
          % args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
