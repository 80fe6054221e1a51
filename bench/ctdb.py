#!/usr/bin/python3
"""Cluster benchmark: smbcim against smbstatus on a real CTDB cluster.

    /usr/bin/python3 bench/ctdb.py [--nodes 3] [--sizes 100,500,1000] [--runs 7]   (as root)

Builds the test cluster of tests/e2e/ctdb_rig.py (one ctdbd and one smbd
per node, clustering = yes, in a private network namespace), then grows
the number of real clients (python3-impacket, tests/e2e/smb_holder.py)
spread round-robin over the nodes, each from its own loopback address, with
one session, two tree connects (Projects, Finance) and one file open on
each: N sessions, 2N tree connects, 2N opens, cluster-wide.

For each N, on node 0, each command is timed as a whole process (median
and minimum milliseconds, in rounds):
  smbcim --smb-conf CONF query "SELECT * FROM Win32_ConnectionShare"
        (its route on a cluster: ctdb, through ctdbd's socket)
  the same with SMBCIM_SAMBA_SOURCE=smbstatus   (the fallback)
  smbstatus -s CONF                              (text, every section)
  smbstatus -s CONF --json                       (fewer runs: it is slow)
and smbcim's answer is checked: 2N connections both ways.  Nothing is
asserted; the figures go to docs/live-source.md and the closing notes.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import ctdb_rig  # noqa: E402
from run_ctdb_e2e import Holder  # noqa: E402

SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))


def log(msg):
    print("bench/ctdb: " + msg, file=sys.stderr, flush=True)


def timed_rounds(cmds, runs):
    times = [[] for _ in cmds]
    outs = [None] * len(cmds)
    for _ in range(runs):
        for i, (argv, extra) in enumerate(cmds):
            env = dict(os.environ, **(extra or {}))
            t0 = time.perf_counter()
            p = subprocess.run(argv, capture_output=True, env=env, timeout=600)
            times[i].append((time.perf_counter() - t0) * 1000.0)
            outs[i] = p
    return [(statistics.median(t), min(t), o) for t, o in zip(times, outs)]


def route_of(p):
    for line in p.stderr.decode(errors="replace").splitlines():
        if "live source:" in line:
            return line.split("live source:")[-1].strip()
    return "?"


def rows_of(p):
    return p.stdout.decode().count("\n") - 1 if p.returncode == 0 else -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--sizes", default="100,500,1000")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--baseline", help="another smbcim binary, timed in the same rounds (an "
                    "A/B comparison of two builds)")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    sizes = [int(x) for x in args.sizes.split(",")]
    with ctdb_rig.Cluster(nodes=args.nodes) as c:
        log("cluster of %d nodes up in %.1f s" % (args.nodes, c.setup_seconds))
        user = c.users[0]
        holders, have, out = [], 0, []
        try:
            for n in sizes:
                per = {i: [] for i in range(args.nodes)}
                for k in range(have, n):
                    per[k % args.nodes].append({
                        "name": "c%d" % k, "user": user,
                        "source": "127.1.%d.%d" % (1 + k // 250, 1 + k % 250),
                        "trees": [{"share": "Projects", "files": ["plan.txt"]},
                                  {"share": "Finance", "files": ["budget.xlsx"]}]})
                t0 = time.time()
                for node, conns in per.items():
                    if conns:
                        holders.append(Holder(c, node, conns, "b%d-%d" % (n, node)))
                log("%d clients (%d new in %.0f s)" % (n, n - have, time.time() - t0))
                have = n
                q = [SMBCIM, "--smb-conf", c.conf(0), "--format", "csv", "query",
                     "SELECT * FROM Win32_ConnectionShare"]
                cmds = [(q, {"SMBCIM_TIMING": "1"}),
                        (q, {"SMBCIM_TIMING": "1", "SMBCIM_SAMBA_SOURCE": "smbstatus"}),
                        (["smbstatus", "-s", c.conf(0)], None)]
                if args.baseline:
                    cmds.append(([args.baseline] + q[1:], {"SMBCIM_TIMING": "1"}))
                timed = timed_rounds(cmds, args.runs)
                (sm, smin, sp), (fm, fmin, fp), (pm, pmin, _) = timed[:3]
                if args.baseline:
                    bm, bmin, bp = timed[3]
                    log("N=%d baseline %s: %.1f ms (min %.1f, %d rows) against %.1f (min %.1f)"
                        % (n, args.baseline, bm, bmin, rows_of(bp), sm, smin))
                (jm, jmin, jp), = timed_rounds([(["smbstatus", "-s", c.conf(0), "--json"],
                                                 None)], 3 if n <= 100 else 1)
                r = (n, sm, smin, route_of(sp), rows_of(sp), fm, fmin, rows_of(fp), pm, pmin,
                     jm, jp.returncode)
                out.append(r)
                log("N=%d smbcim %.1f ms (%s, %d rows), fallback %.1f ms (%d rows), smbstatus "
                    "%.1f ms, --json %.0f ms%s" % (n, sm, r[3], r[4], fm, r[7], pm, jm,
                                                   "" if r[4] == r[7] == 2 * n else
                                                   "  <-- MISMATCH"))
        finally:
            for h in holders:
                h.stop()
    print("| N clients (%d nodes) | smbcim, route | smbcim via smbstatus | smbstatus | "
          "smbstatus --json | smbstatus / smbcim | --json / smbcim |" % args.nodes)
    print("|---|---|---|---|---|---|---|")
    for (n, sm, smin, route, rows, fm, fmin, frows, pm, pmin, jm, jrc) in out:
        print("| %d | %.1f (%.1f), %s | %.1f (%.1f) | %.1f (%.1f) | %.0f%s | %.1f× | %.0f× |"
              % (n, sm, smin, route, fm, fmin, pm, pmin, jm, "" if jrc == 0 else " (exit %d)" % jrc,
                 pm / sm, jm / sm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
