#!/usr/bin/python3
"""smbcimd under load, next to nginx serving the same bytes.

    /usr/bin/python3 bench/server.py [--seconds 60] [--connections 50]   (as root)

Serves a snapshot with 100 Win32_ConnectionShare instances (50 clients, 2
shares each) with smbcimd on 127.0.0.1 (plain HTTP, Basic auth through PAM
for a user the script creates), and drives EnumerateInstances of
Win32_ConnectionShare with wrk (keep-alive, the given connections, 2
threads, a Lua script that POSTs the CIM-XML request).  Then nginx serves
the identical response body as a static file to the identical POST, with
the same wrk settings.  Prints requests/s, latency percentiles, errors and
smbcimd's memory (VmRSS every second: first, peak, last).  Nothing is
asserted; the figures go to the closing note.
"""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import free_port  # noqa: E402
BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))
USER, PW = "smbcim_bench", "Bench-pass-1"

REQUEST = ('<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">\n'
           '<MESSAGE ID="4711" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL '
           'NAME="EnumerateInstances"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"></NAMESPACE>'
           '<NAMESPACE NAME="cimv2"></NAMESPACE></LOCALNAMESPACEPATH>\n'
           '<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="Win32_ConnectionShare"/></IPARAMVALUE>\n'
           '<IPARAMVALUE NAME="DeepInheritance"><VALUE>TRUE</VALUE></IPARAMVALUE>\n'
           '<IPARAMVALUE NAME="LocalOnly"><VALUE>FALSE</VALUE></IPARAMVALUE>\n'
           '<IPARAMVALUE NAME="IncludeQualifiers"><VALUE>FALSE</VALUE></IPARAMVALUE>\n'
           '<IPARAMVALUE NAME="IncludeClassOrigin"><VALUE>TRUE</VALUE></IPARAMVALUE>\n'
           '</IMETHODCALL></SIMPLEREQ>\n</MESSAGE></CIM>')




def snapshot(path, clients=50):
    sessions, tcons, opens = {}, {}, {}
    for i in range(clients):
        sid, pid, uq = str(1000 + i), str(20000 + i), str(777000 + i)
        ip = "10.0.%d.%d" % (1 + i // 250, 1 + i % 250)
        sessions[sid] = {"session_id": sid, "server_id": {"pid": pid, "unique_id": uq},
                         "uid": 1000 + i % 7, "username": "user%d" % (i % 7),
                         "remote_machine": ip, "hostname": "ipv4:%s:5000" % ip,
                         "session_dialect": "SMB3_11"}
        for j, (sh, sp) in enumerate((("Projects", "/srv/p"), ("Finance Data", "/srv/f"))):
            tid = str(500000 + 2 * i + j)
            tcons[tid] = {"tcon_id": tid, "service": sh, "session_id": sid,
                          "server_id": {"pid": pid, "unique_id": uq}, "machine": ip,
                          "connected_at": "2026-11-24T12:00:00.000000+00:00"}
            opens["%s/f%d_%d" % (sp, i, j)] = {
                "service_path": sp, "filename": "f%d_%d" % (i, j),
                "opens": {"%s/1" % pid: {"server_id": {"pid": pid, "unique_id": uq},
                                         "uid": 1000 + i % 7}}}
    doc = {"smbcim_snapshot": 1, "server": {"name": "BENCH", "taken_at": "2026-11-24T12:00:00Z"},
           "shares": [{"name": "Projects", "kind": "disk", "administrative": False,
                       "path": "/srv/p", "comment": "", "max_connections": 0},
                      {"name": "Finance Data", "kind": "disk", "administrative": False,
                       "path": "/srv/f", "comment": "", "max_connections": 0}],
           "smbstatus": {"sessions": sessions, "tcons": tcons, "open_files": opens}}
    with open(path, "w") as f:
        json.dump(doc, f)


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def wrk(url, lua, seconds, conns):
    p = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % seconds, "--latency",
                        "--timeout", "10s", "-s", lua, url], capture_output=True, text=True)
    out = p.stdout
    res = {"raw": out}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, out, re.M)
        if m:
            v = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
            res["p" + pct] = v
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["sockerr"] = sum(int(x) for x in m.groups()) if m else 0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=50)
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/server.py: run as root (PAM user, nginx)", file=sys.stderr)
        return 1
    missing = [p for p, tool in (("wrk", "wrk"), ("nginx-light", "nginx")) if not shutil.which(tool)]
    if missing:
        print("bench/server.py: installing %s" % " ".join(missing), file=sys.stderr)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing,
                       check=True, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    tmp = tempfile.mkdtemp(prefix="smbcim-bench-srv.")
    os.chmod(tmp, 0o755)
    made_user = subprocess.run(["getent", "passwd", USER], capture_output=True).returncode != 0
    made_pam = not os.path.exists("/etc/pam.d/smbcimd")
    made_group = False
    procs = []
    try:
        made_group = subprocess.run(["getent", "group", "smbcim-bench"],
                                    capture_output=True).returncode != 0
        if made_group:
            subprocess.run(["groupadd", "smbcim-bench"], check=True)
        if made_user:
            subprocess.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "-G", "smbcim-bench",
                            USER], check=True)
        subprocess.run(["chpasswd"], input="%s:%s\n" % (USER, PW), text=True, check=True)
        if made_pam:
            shutil.copy(os.path.join(ROOT, "dist", "pam.d", "smbcimd"), "/etc/pam.d/smbcimd")
        snap = os.path.join(tmp, "bench.json")
        snapshot(snap)
        open(os.path.join(tmp, "empty.conf"), "w").close()
        port = free_port()
        d = subprocess.Popen([os.path.join(BUILD, "smbcimd"), "--foreground", "--config",
                              os.path.join(tmp, "empty.conf"), "--snapshot", snap, "--http",
                              "127.0.0.1:%d" % port, "--https", "none", "--allow-plain-http",
                              "--admin-group", "smbcim-bench"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "d.log"), "w"))
        procs.append(d)
        time.sleep(0.5)
        auth = base64.b64encode(("%s:%s" % (USER, PW)).encode()).decode()
        body = subprocess.run(
            ["curl", "-s", "-X", "POST", "--data-binary", REQUEST, "-H",
             'Content-Type: application/xml; charset="utf-8"', "-H", "CIMOperation: MethodCall",
             "-H", "CIMMethod: EnumerateInstances", "-H", "CIMObject: root%2Fcimv2", "-H",
             "Authorization: Basic " + auth, "http://127.0.0.1:%d/cimom" % port],
            capture_output=True).stdout
        n = body.count(b"<VALUE.NAMEDINSTANCE>")
        print("response: %d bytes, %d instances of Win32_ConnectionShare" % (len(body), n))
        with open(os.path.join(tmp, "resp.xml"), "wb") as f:
            f.write(body)
        lua = os.path.join(tmp, "post.lua")
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.body = %s\n' % json.dumps(REQUEST))
            for k, v in (("Content-Type", 'application/xml; charset="utf-8"'),
                         ("CIMOperation", "MethodCall"), ("CIMMethod", "EnumerateInstances"),
                         ("CIMObject", "root%2Fcimv2"), ("Authorization", "Basic " + auth)):
                f.write('wrk.headers[%s] = %s\n' % (json.dumps(k), json.dumps(v)))
        samples = []
        stop = threading.Event()

        def sampler():
            while not stop.is_set():
                samples.append(rss_kb(d.pid))
                time.sleep(1)
        th = threading.Thread(target=sampler)
        th.start()
        r1 = wrk("http://127.0.0.1:%d/cimom" % port, lua, a.seconds, a.connections)
        stop.set()
        th.join()
        samples = [s for s in samples if s]
        # nginx, same bytes, same request
        nport = free_port()
        os.makedirs(os.path.join(tmp, "www"), exist_ok=True)
        shutil.copy(os.path.join(tmp, "resp.xml"), os.path.join(tmp, "www", "cimom"))
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes auto;
pid %(t)s/nginx.pid;
error_log %(t)s/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:%(p)d;
    root %(t)s/www;
    location = /cimom { default_type 'application/xml; charset="utf-8"'; error_page 405 =200 $uri; }
  }
}
""" % {"t": tmp, "p": nport})
        ng = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(ng)
        time.sleep(0.5)
        same = subprocess.run(["curl", "-s", "-X", "POST", "--data-binary", REQUEST,
                               "http://127.0.0.1:%d/cimom" % nport], capture_output=True).stdout
        print("nginx serves the same %d bytes: %s" % (len(same), same == body))
        r2 = wrk("http://127.0.0.1:%d/cimom" % nport, lua, a.seconds, a.connections)
        print()
        print("| server | requests/s | p50 ms | p90 ms | p99 ms | requests | non-2xx | socket errors |")
        print("|---|---|---|---|---|---|---|---|")
        for name, r in (("smbcimd", r1), ("nginx (static file)", r2)):
            print("| %s | %.0f | %.2f | %.2f | %.2f | %d | %d | %d |" % (
                name, r["rps"], r.get("p50", -1), r.get("p90", -1), r.get("p99", -1),
                r["requests"], r["non2xx"], r["sockerr"]))
        print()
        print("smbcimd / nginx throughput: %.2f" % (r1["rps"] / r2["rps"] if r2["rps"] else 0))
        if samples:
            print("smbcimd VmRSS during the run: first %d KiB, peak %d KiB, last %d KiB (%d samples)"
                  % (samples[0], max(samples), samples[-1], len(samples)))
        print("wbench settings: %d s, %d connections, 2 threads, keep-alive" % (a.seconds,
                                                                                a.connections))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if made_user:
            subprocess.run(["userdel", USER])
        if made_group:
            subprocess.run(["groupdel", "smbcim-bench"])
        if made_pam:
            os.unlink("/etc/pam.d/smbcimd")
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
