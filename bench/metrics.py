#!/usr/bin/python3
"""What one Prometheus scrape of smbcimd costs, at 1,000 and 4,000
connections (docs/monitoring.md, "Cost of a scrape").

    python3 bench/metrics.py [--sizes 1000,4000] [--warm 200] [--changed 20]

For each size: a synthetic snapshot (bench/gen_snapshot.py: 100 shares,
one session and one tree connect per connection, two open files per
connection), smbcimd on 127.0.0.1 serving it with --metrics (no TLS, no
authentication: the figure is the scrape, not PAM), then GET /metrics
timed from the client:
  changed  the state is new for every scrape (the snapshot file is
           replaced before each one): reading it, enumerating the three
           classes, comparing the keys, writing the text — what every
           scrape costs with the live source when the scrape interval is
           longer than cache-seconds, as it usually is;
  warm     the same state scraped again: the cached text plus smbcimd's
           own counters;
and smbcimd's own smbcim_state_read_duration_seconds (the server-side part
of a changed scrape).  Nothing is asserted; prints one table.
"""
import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import ensure_worker_user, free_port  # noqa: E402
BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))


def scrape(port, accept=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    h = {"Accept": accept} if accept else {}
    t0 = time.perf_counter()
    c.request("GET", "/metrics", headers=h)
    r = c.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    c.close()
    if r.status != 200:
        raise RuntimeError("GET /metrics: %d" % r.status)
    return dt, body.decode()


def gauge(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def ms(xs):
    return "%.2f" % (1000 * statistics.median(xs))


def p95(xs):
    return "%.2f" % (1000 * sorted(xs)[max(0, int(len(xs) * 0.95) - 1)])


def run(size, warm, changed, tmp):
    snap = os.path.join(tmp, "snap-%d.json" % size)
    gen = [sys.executable, os.path.join(ROOT, "bench", "gen_snapshot.py"), "100", str(size),
           str(size), str(2 * size)]
    text = subprocess.run(gen, capture_output=True, text=True, check=True).stdout
    with open(snap, "w") as f:
        f.write(text)
    conf = os.path.join(tmp, "empty.conf")
    open(conf, "w").close()
    port = free_port()
    log = open(os.path.join(tmp, "smbcimd-%d.log" % size), "w")
    proc = subprocess.Popen([os.path.join(BUILD, "smbcimd"), "--foreground", "--config", conf,
                             "--snapshot", snap, "--http", "127.0.0.1:%d" % free_port(),
                             "--https", "none", "--metrics", "127.0.0.1:%d" % port,
                             # no login happens here; these only pass the start checks
                             "--pam-service", "other", "--admin-group", "root"],
                            stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                scrape(port)
                break
            except OSError:
                if proc.poll() is not None:
                    log.flush()
                    with open(log.name) as f:
                        raise RuntimeError("smbcimd did not start: " + f.read())
                time.sleep(0.05)
        # a new state before each scrape: the file replaced (new mtime)
        t_changed, reads = [], []
        body = ""
        for i in range(changed):
            with open(snap + ".new", "w") as f:
                f.write(text + " " * (i % 2))
            os.rename(snap + ".new", snap)
            dt, body = scrape(port)
            t_changed.append(dt)
            reads.append(gauge(body, "smbcim_state_read_duration_seconds"))
        conns = gauge(body, "smbcim_connections")
        t_warm = [scrape(port)[0] for _ in range(warm)]
        t_om = [scrape(port, "application/openmetrics-text; version=1.0.0")[0]
                for _ in range(warm)]
        return {"size": size, "connections": int(conns), "bytes": len(body.encode()),
                "changed": t_changed, "reads": reads, "warm": t_warm, "om": t_om}
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(20)
        log.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,4000")
    ap.add_argument("--warm", type=int, default=200)
    ap.add_argument("--changed", type=int, default=20)
    args = ap.parse_args()
    if os.geteuid() == 0:
        ensure_worker_user()  # smbcimd's worker reads the snapshots as smbcim
    with tempfile.TemporaryDirectory(prefix="smbcim-bench-metrics.") as tmp:
        os.chmod(tmp, 0o755)
        rows = [run(int(s), args.warm, args.changed, tmp) for s in args.sizes.split(",")]
    print("smbcimd /metrics, %s, median (p95) in ms, client side over 127.0.0.1" % BUILD)
    print("%-12s %-8s %-20s %-22s %-18s %-18s" % ("connections", "bytes", "changed state",
                                                  "of which server read", "same state",
                                                  "same, OpenMetrics"))
    for r in rows:
        print("%-12d %-8d %-20s %-22s %-18s %-18s" % (
            r["connections"], r["bytes"], "%s (%s)" % (ms(r["changed"]), p95(r["changed"])),
            "%s (%s)" % (ms(r["reads"]), p95(r["reads"])),
            "%s (%s)" % (ms(r["warm"]), p95(r["warm"])), "%s (%s)" % (ms(r["om"]), p95(r["om"]))))


if __name__ == "__main__":
    main()
