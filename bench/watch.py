#!/usr/bin/env python3
"""What polling costs: the CPU of one poll of `smbcim watch` at WITHIN 1.

    python3 bench/watch.py [--clients 1000,4000] [--polls 20] [--keep DIR]

For each size N, writes a sequence of POLLS+1 snapshots with
bench/gen_snapshot.py (N sessions, N tree connects, N open files over
max(N/10, 10) shares: about N Win32_ServerConnection instances), each one
second after the last, in which about 1% of the clients leave, 1% come and
1% open or close a file, then replays it with
SMBCIM_WATCH_NOWAIT=1 SMBCIM_TIMING=1 through two queries:

  creations   SELECT * FROM __InstanceCreationEvent WITHIN 1
                WHERE TargetInstance ISA 'Win32_ServerConnection'
                  AND TargetInstance.ShareName != 'IPC$'
              (what a management pack asks: few events)
  everything  SELECT * FROM __InstanceOperationEvent WITHIN 1
                WHERE TargetInstance ISA 'Win32_ServerConnection'
              (ActiveTime grows, so every connection is modified at
              every poll: N events a poll, the worst case; printed as JSON
              to /dev/null)

Each poll reads the whole next state (the snapshot's JSON: the snapshot
counterpart of reading smbd's databases), builds the instances and
compares them with the previous state's.  Printed: per poll, the median
wall time of the read (opening the snapshot) and of the comparison
(smbcim_watch_poll: instances, keys, diff, WHERE), the median and the
maximum CPU of both (the CLI's own clock_gettime(CLOCK_PROCESS_CPUTIME_ID)),
the printing time, and the whole
process's CPU (user+sys from wait4) divided by the polls, each also as a
share of one core at WITHIN 1 (CPU per poll / 1 s).  Nothing is asserted.
SMBCIM (default build/smbcim) is the binary.
"""
import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
GEN = os.path.join(ROOT, "bench", "gen_snapshot.py")
QUERIES = {
    "creations": "SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA "
                 "'Win32_ServerConnection' AND TargetInstance.ShareName != 'IPC$'",
    "everything": "SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE TargetInstance ISA "
                  "'Win32_ServerConnection'",
}


def sequence(n, polls, out):
    """Writes out/000.json ... out/<polls>.json; returns their paths."""
    shares = max(n // 10, 10)
    base = json.loads(subprocess.run([sys.executable, GEN, str(shares), str(n), str(n), str(n)],
                                     check=True, capture_output=True, text=True).stdout)
    rnd = random.Random(7)
    st = base["smbstatus"]
    sessions, tcons, files = st["sessions"], st["tcons"], st["open_files"]
    next_id = 1
    paths = []
    for step in range(polls + 1):
        if step:
            # 1% leave: their session, tree connects and opens
            for sid in rnd.sample(sorted(sessions), max(n // 100, 1)):
                pid = sessions.pop(sid)["server_id"]["pid"]
                for t in [k for k, v in tcons.items() if v["session_id"] == sid]:
                    del tcons[t]
                for f in [k for k, v in files.items()
                          if any(o["server_id"]["pid"] == pid for o in v["opens"].values())]:
                    del files[f]
            # 1% come: a session and a tree connect, copied from a random one
            for _ in range(max(n // 100, 1)):
                tmpl_t = tcons[rnd.choice(sorted(tcons))]
                tmpl_s = sessions.get(tmpl_t["session_id"]) or sessions[rnd.choice(sorted(sessions))]
                sid = str(5000000 + next_id)
                pid = str(900000 + next_id)
                ip = "172.16.%d.%d" % (next_id >> 8 & 255, next_id & 255)
                s = json.loads(json.dumps(tmpl_s))
                s.update(session_id=sid, remote_machine=ip, hostname="ipv4:%s:445" % ip)
                s["server_id"] = dict(s["server_id"], pid=pid)
                sessions[sid] = s
                t = json.loads(json.dumps(tmpl_t))
                tid = str(7000000 + next_id)
                t.update(tcon_id=tid, session_id=sid, machine=ip,
                         connected_at="2026-11-24T12:%02d:%02d.000000+00:00" % (step // 60, step % 60))
                t["server_id"] = dict(t["server_id"], pid=pid)
                tcons[tid] = t
                next_id += 1
            # 1% open or close a file
            for k in rnd.sample(sorted(files), min(max(n // 200, 1), len(files))):
                del files[k]
            for _ in range(max(n // 200, 1)):
                tmpl = files[rnd.choice(sorted(files))]
                f = json.loads(json.dumps(tmpl))
                f["filename"] = "new/%d-%d.dat" % (step, next_id)
                next_id += 1
                files[f["service_path"] + "/" + f["filename"]] = f
        base["server"]["taken_at"] = "2026-11-24T12:%02d:%02d.000000+00:00" % (step // 60, step % 60)
        p = os.path.join(out, "%03d.json" % step)
        with open(p, "w") as fh:
            json.dump(base, fh)
        paths.append(p)
    return paths


def run(states_dir, query):
    env = dict(os.environ, SMBCIM_WATCH_NOWAIT="1", SMBCIM_TIMING="1")
    with open(os.devnull, "w") as null:
        proc = subprocess.Popen([SMBCIM, "--snapshot", states_dir, "--format", "json", "watch",
                                 query], stdout=null, stderr=subprocess.PIPE, text=True, env=env)
        err = proc.stderr.read()
        _, status, ru = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit("smbcim failed (%d): %s" % (status, err[-2000:]))
    # (read s, compare s, cpu s, print s, events)
    polls = [tuple(float(x) for x in m.groups()[:4]) + (int(m.group(5)),) for m in re.finditer(
        r"read ([0-9.]+) s, compare ([0-9.]+) s \(cpu of both ([0-9.]+) s\), print ([0-9.]+) s, "
        r"(\d+) events", err)]
    return polls, ru.ru_utime + ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", default="1000,4000")
    ap.add_argument("--polls", type=int, default=20)
    ap.add_argument("--keep", help="write the snapshots here (kept)")
    a = ap.parse_args()
    print("smbcim watch, WITHIN 1: CPU per poll (read the next state + compare)\n")
    print("%-8s %-11s %7s %9s %9s %9s %9s %9s %12s %14s" % (
        "clients", "query", "events", "read", "compare", "cpu med", "cpu max", "print",
        "process/poll", "core @WITHIN 1"))
    for n in (int(x) for x in a.clients.split(",")):
        tmp = tempfile.TemporaryDirectory()
        d = a.keep and os.path.join(a.keep, str(n)) or tmp.name
        os.makedirs(d, exist_ok=True)
        paths = sequence(n, a.polls, d)
        size = os.path.getsize(paths[0])
        for name, q in QUERIES.items():
            polls, cpu = run(d, q)
            rd = statistics.median(p[0] for p in polls)
            cmp = statistics.median(p[1] for p in polls)
            med = statistics.median(p[2] for p in polls)
            mx = max(p[2] for p in polls)
            pr = statistics.median(p[3] for p in polls)
            ev = statistics.median(p[4] for p in polls)
            per = cpu / len(polls)  # the first state (the watch's start) included
            print("%-8d %-11s %7d %6.1f ms %6.1f ms %6.1f ms %6.1f ms %6.1f ms %9.1f ms %12.1f %%" % (
                n, name, ev, rd * 1e3, cmp * 1e3, med * 1e3, mx * 1e3, pr * 1e3, per * 1e3,
                per * 100))
        print("%-8s (snapshot %.1f MB, %d polls)" % ("", size / 1e6, len(polls)))
        tmp.cleanup()


if __name__ == "__main__":
    main()
