#!/usr/bin/python3
"""End-to-end test of smbcimd's Prometheus metrics, with Debian's real
Prometheus scraping it.

    /usr/bin/python3 tests/e2e/run_metrics_e2e.py      (as root; run make first)
    ... --screenshot docs/monitoring-graph.png         (also: a picture of the
                                                         graph page, headless
                                                         chromium)

Set-up: two Unix users the test creates (smbcim_madmin in the group
smbcim-madmins, smbcim_muser outside it), a PAM service file of its own
(/etc/pam.d/smbcim-metrics-e2e), a certificate for 127.0.0.1/localhost, and
three smbcimd on 127.0.0.1 (free ports), each with its metrics listener:
A over tests/fixtures/fs01.json (a copy; metrics set in a configuration
file), B over tests/fixtures/hostile.json (hostile share and user names,
metrics-per-user), C over fs01 with metrics-tls, metrics-auth and
metrics-per-user.  Everything created is removed at the end and every
process started is stopped by its PID.

Checks: the listener directly (text 0.0.4 and OpenMetrics by Accept,
`promtool check metrics`, HEAD, /healthz, 404, 405, a body refused,
authentication: none / wrong password -> 401, right -> 200, an admin sees
the per-user series and a non-admin does not; configuration errors at
start; /healthz 503 with one line when the snapshot breaks).  Then Debian's
prometheus (/usr/bin/prometheus) scrapes A, B and C every second with
contrib/prometheus/smbcim-rules.yml loaded; through its HTTP API
(/api/v1/query) the per-share figures of each target equal the smbcim
CLI's answers for the same snapshot, hostile label values come back byte
for byte, the targets have no scrape error, the rules are healthy and a
recording rule adds up.  promtool checks the fleet configuration and the
rules of contrib/prometheus/ (the ones docs/monitoring.md shows) and runs
their unit tests.  Prints "ok"/"FAIL" lines and ends with
"N passed, N failed".
"""
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import Tally, TempAccounts, free_port, self_signed_cert, sh  # noqa: E402
BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))
SMBCIMD = os.path.join(BUILD, "smbcimd")
SMBCIM = os.path.join(BUILD, "smbcim")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
CONTRIB = os.path.join(ROOT, "contrib", "prometheus")
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
ADMIN, ADMIN_PW = "smbcim_madmin", "Adm1n-metrics-e2e"
USER, USER_PW = "smbcim_muser", "Us3r-metrics-e2e"
GROUP = "smbcim-madmins"
PAM_SERVICE = "smbcim-metrics-e2e"
GECOS = "smbcim metrics e2e temporary user"
# every smbcimd started here: the PAM service and admin group of the test
COMMON = ["--pam-service", PAM_SERVICE, "--admin-group", GROUP]
CT_TEXT = "text/plain; version=0.0.4; charset=utf-8"
CT_OM = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# What Prometheus 2.x sends
ACCEPT_PROM = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")

tally = Tally()
check = tally.check


def wait_port(port, proc, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            if proc.poll() is not None:
                return False
            time.sleep(0.05)
    return False


class Daemon:
    """One smbcimd with a metrics listener, stopped by its PID."""

    def __init__(self, tmp, name, extra, conf_text=""):
        self.http = free_port()
        self.metrics = free_port()
        self.log = os.path.join(tmp, "smbcimd-%s.log" % name)
        conf = os.path.join(tmp, "smbcimd-%s.conf" % name)
        with open(conf, "w") as f:
            f.write(conf_text.replace("@METRICS@", "127.0.0.1:%d" % self.metrics))
        argv = [SMBCIMD, "--foreground", "--config", conf,
                "--http", "127.0.0.1:%d" % self.http, "--https", "none",
                "--request-seconds", "3", "--timeout", "5"] + \
            [a.replace("@METRICS@", "127.0.0.1:%d" % self.metrics) for a in extra]
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=self.logf)
        self.up = wait_port(self.metrics, self.proc)

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        rc = self.proc.poll()
        if rc is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                rc = None
        self.logf.close()
        return rc


def get(port, path, method="GET", tls=False, auth=None, headers=None, body=None, timeout=20):
    """One request to a metrics listener: (status, headers (lower-case
    names), body bytes)."""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = dict(headers or {})
    if auth:
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


# ---- the exposition format, parsed -------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def parse_labels(s):
    """{a="x\\"y",b="z"} -> dict, undoing the three escapes."""
    out = {}
    i = 1
    while i < len(s) - 1:
        eq = s.index("=", i)
        name = s[i:eq]
        assert s[eq + 1] == '"', s
        j = eq + 2
        val = []
        while s[j] != '"':
            if s[j] == "\\":
                nxt = s[j + 1]
                val.append({"\\": "\\", '"': '"', "n": "\n"}[nxt])
                j += 2
            else:
                val.append(s[j])
                j += 1
        out[name] = "".join(val)
        i = j + 1
        if i < len(s) and s[i] == ",":
            i += 1
    return out


def parse(text):
    """(samples: list of (name, labels, value), types: {family: type},
    problems: list of lines that are neither)."""
    samples, types, problems = [], {}, []
    for line in text.split("\n"):
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, fam, typ = line.split(" ", 3)
            types[fam] = typ
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append(line)
            continue
        try:
            labels = parse_labels(m.group(2)) if m.group(2) else {}
        except Exception:  # noqa: BLE001
            problems.append(line)
            continue
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples, types, problems


def by_share(samples, name):
    return {lab["share"]: v for n, lab, v in samples if n == name}


def value(samples, name, **labels):
    for n, lab, v in samples:
        if n == name and all(lab.get(k) == w for k, w in labels.items()):
            return v
    return None


# ---- what the smbcim CLI says ----------------------------------------------------------

def cli_rows(snap, query):
    p = sh(SMBCIM, "--snapshot", snap, "--format", "json", "query", query, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("smbcim %s: %s" % (query, p.stderr))
    return json.loads(p.stdout)


def cli_figures(snap):
    """Per share (every share of Win32_Share): connections, tree connects,
    distinct users, open files; and the totals."""
    shares = {r["Name"]: {"connections": 0, "tree_connects": 0, "users": set(), "open_files": 0}
              for r in cli_rows(snap, "SELECT Name FROM Win32_Share")}
    conns = cli_rows(snap, "SELECT ShareName, UserName, NumberOfUsers, NumberOfFiles "
                           "FROM Win32_ServerConnection")
    for r in conns:
        s = shares[r["ShareName"]]
        s["connections"] += 1
        s["tree_connects"] += r["NumberOfUsers"] or 0
        s["open_files"] += r["NumberOfFiles"] or 0
        s["users"].add(r["UserName"].lower())
    for s in shares.values():
        s["users"] = len(s["users"])
    sessions = cli_rows(snap, "SELECT UserName FROM Win32_ServerSession")
    per_user = {}
    for r in conns:
        k = (r["ShareName"], r["UserName"])
        per_user[k] = per_user.get(k, 0) + 1
    return {"shares": shares, "connections": len(conns), "sessions": len(sessions),
            "per_user": per_user}


# ---- the listener, directly ----------------------------------------------------------------

def direct_checks(a, b, c, tmp, fig_a, fig_b):
    st, h, body = get(a.metrics, "/metrics")
    text = body.decode()
    check("A: GET /metrics -> 200, text format 0.0.4 by default",
          st == 200 and h.get("content-type") == CT_TEXT, (st, h))
    samples, types, problems = parse(text)
    check("A: every line is a comment or a sample", not problems, problems[:5])
    check("A: counters typed with _total in the text format",
          types.get("smbcim_requests_total") == "counter" and
          types.get("smbcim_connections_started_total") == "counter", types)
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True)
    check("A: promtool check metrics: no problem (naming, HELP, TYPE)",
          p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(),
          (p.returncode, p.stdout, p.stderr))
    check("A: per-share connections = the CLI's (fs01)",
          by_share(samples, "smbcim_share_connections") ==
          {k: v["connections"] for k, v in fig_a["shares"].items()},
          (by_share(samples, "smbcim_share_connections"), fig_a["shares"]))
    check("A: sessions and connections in total = the CLI's",
          value(samples, "smbcim_sessions") == fig_a["sessions"] and
          value(samples, "smbcim_connections") == fig_a["connections"],
          (value(samples, "smbcim_sessions"), value(samples, "smbcim_connections"), fig_a))
    check("A: info metrics (source, build)",
          value(samples, "smbcim_source_info", source="snapshot", route="snapshot") == 1 and
          value(samples, "smbcim_build_info") == 1 and
          value(samples, "smbcim_source_up") == 1, text[:600])
    check("A: no per-user series without metrics-per-user",
          "smbcim_share_user_connections" not in text, "")

    st, h, body = get(a.metrics, "/metrics", headers={"Accept": ACCEPT_PROM})
    om = body.decode()
    samples_om, types_om, problems_om = parse(om)
    check("A: Prometheus' Accept -> OpenMetrics 1.0.0", st == 200 and
          h.get("content-type") == CT_OM, (st, h))
    check("A: OpenMetrics ends with # EOF", om.endswith("\n# EOF\n"), om[-200:])
    check("A: OpenMetrics names counter and info families without their suffix",
          types_om.get("smbcim_requests") == "counter" and
          types_om.get("smbcim_connections_started") == "counter" and
          types_om.get("smbcim_build") == "info" and "smbcim_requests_total" not in types_om and
          "# UNIT smbcim_oldest_session_age_seconds seconds" in om, types_om)
    check("A: OpenMetrics samples = text samples (share figures)",
          by_share(samples_om, "smbcim_share_open_files") ==
          by_share(samples, "smbcim_share_open_files") and not problems_om, problems_om[:3])
    st, h, _ = get(a.metrics, "/metrics",
                   headers={"Accept": "application/openmetrics-text; version=0.0.1"})
    check("A: OpenMetrics 0.0.1 when only that is accepted",
          h.get("content-type", "").startswith("application/openmetrics-text; version=0.0.1"),
          h)
    st, h, _ = get(a.metrics, "/metrics", headers={"Accept": "text/plain;version=0.0.4"})
    check("A: Accept text/plain -> text", h.get("content-type") == CT_TEXT, h)
    st, h, _ = get(a.metrics, "/metrics", headers={"Accept": "application/json"})
    check("A: an Accept nothing matches -> the text format", st == 200 and
          h.get("content-type") == CT_TEXT, (st, h))

    st, h, body = get(a.metrics, "/metrics", method="HEAD")
    check("A: HEAD /metrics -> 200, headers only", st == 200 and body == b"" and
          h.get("content-type") == CT_TEXT, (st, h, body[:100]))
    st, h, body = get(a.metrics, "/healthz")
    check("A: GET /healthz -> 200 ok", st == 200 and body == b"ok\n", (st, body))
    for m in ("POST", "PUT", "DELETE", "OPTIONS"):
        st, h, _ = get(a.metrics, "/metrics", method=m, body=b"" if m in ("POST", "PUT") else None)
        check("A: %s /metrics -> 405, Allow: GET, HEAD" % m,
              st == 405 and h.get("allow") == "GET, HEAD", (st, h))
    for path in ("/", "/cimom", "/metrics/", "/metricsx", "/healthz/x", "/../metrics"):
        st, _, _ = get(a.metrics, path)
        check("A: GET %s -> 404" % path, st == 404, st)
    st, _, _ = get(a.metrics, "/metrics?x=1")
    check("A: a query string is ignored (the path is /metrics)", st == 200, st)
    st, _, _ = get(a.metrics, "/metrics", body=b"hello",
                   headers={"Content-Type": "text/plain"})
    check("A: GET with a body -> 400", st == 400, st)
    st, _, _ = get(a.http, "/metrics")
    check("A: the CIM-XML listener does not serve /metrics", st in (404, 405), st)
    st, _, body = get(a.metrics, "/metrics", headers={"Content-Length": "0"})
    check("A: Content-Length: 0 is no body", st == 200, st)

    # B: hostile names, per-user series
    st, h, body = get(b.metrics, "/metrics")
    text = body.decode("utf-8")
    samples, types, problems = parse(text)
    check("B: every line is a comment or a sample (hostile names escaped)", not problems,
          problems[:5])
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True)
    check("B: promtool check metrics accepts it", p.returncode == 0, (p.stdout, p.stderr))
    got = by_share(samples, "smbcim_share_connections")
    check("B: hostile share names round-trip (ESC, BEL, U+202E, backslash, quote)",
          got == {k: v["connections"] for k, v in fig_b["shares"].items()},
          (sorted(got), sorted(fig_b["shares"])))
    pu = {(lab["share"], lab["user"]): v for n, lab, v in samples
          if n == "smbcim_share_user_connections"}
    check("B: per-user series (metrics-per-user), user names with a newline intact",
          pu == fig_b["per_user"], (pu, fig_b["per_user"]))
    check("B: a raw newline never reaches the output inside a label",
          '\\n' in text and all(line.startswith(("#", "smbcim_")) for line in
                                text.split("\n") if line), "")

    # C: TLS and authentication
    st, h, _ = get(c.metrics, "/metrics", tls=True)
    check("C: no credentials -> 401 + WWW-Authenticate", st == 401 and
          "Basic" in h.get("www-authenticate", ""), (st, h))
    st, _, _ = get(c.metrics, "/healthz", tls=True)
    check("C: /healthz is behind the authentication too", st == 401, st)
    t0 = time.monotonic()
    st, _, _ = get(c.metrics, "/metrics", tls=True, auth=(ADMIN, "wrong-password"))
    check("C: a wrong password -> 401 (after the failure delay)",
          st == 401 and time.monotonic() - t0 >= 0.4, (st, time.monotonic() - t0))
    st, _, _ = get(c.metrics, "/metrics", tls=True, auth=("nosuchuser_e2e", "x"))
    check("C: an unknown user -> 401", st == 401, st)
    st, _, _ = get(c.metrics, "/metrics", tls=True,
                   headers={"Authorization": "Basic !!!notbase64"})
    check("C: malformed credentials -> 401", st == 401, st)
    st, h, body = get(c.metrics, "/metrics", tls=True, auth=(ADMIN, ADMIN_PW))
    text = body.decode()
    samples, _, _ = parse(text)
    check("C: the right password (admin) over TLS -> 200 with per-user series",
          st == 200 and "smbcim_share_user_connections{" in text and
          by_share(samples, "smbcim_share_connections").get("dave") == 1, (st, text[:300]))
    check("C: failed logins counted (smbcim_login_failures_total >= 3)",
          (value(samples, "smbcim_login_failures_total") or 0) >= 3,
          value(samples, "smbcim_login_failures_total"))
    st, _, body = get(c.metrics, "/metrics", tls=True, auth=(USER, USER_PW))
    text = body.decode()
    samples, _, _ = parse(text)
    check("C: a non-admin -> 200, no per-user series, no [homes] share (dave)",
          st == 200 and "smbcim_share_user_connections" not in text and
          "dave" not in by_share(samples, "smbcim_share_connections") and
          value(samples, "smbcim_connections") == fig_a["connections"], (st, text[:300]))
    st, _, body = get(c.metrics, "/healthz", tls=True, auth=(USER, USER_PW))
    check("C: /healthz with credentials -> 200 ok", st == 200 and body == b"ok\n", (st, body))
    try:
        get(c.metrics, "/metrics", tls=False, timeout=3)
        plain = "answered"
    except Exception as e:  # noqa: BLE001
        plain = type(e).__name__
    check("C: metrics-tls: plain HTTP gets no answer", plain != "answered", plain)

    # request counts: a CIM-XML request to C's own listener
    req = ('<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
           '<MESSAGE ID="5" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL '
           'NAME="EnumerateInstanceNames"><LOCALNAMESPACEPATH><NAMESPACE NAME="root"/>'
           '<NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME="ClassName">'
           '<CLASSNAME NAME="Win32_Share"/></IPARAMVALUE></IMETHODCALL></SIMPLEREQ>'
           '</MESSAGE></CIM>')
    hdr = {"Content-Type": 'application/xml; charset="utf-8"', "CIMOperation": "MethodCall",
           "CIMMethod": "EnumerateInstanceNames", "CIMObject": "root%2Fcimv2"}
    for _ in range(2):
        st, _, _ = get(c.http, "/cimom", method="POST", body=req.encode(), headers=hdr,
                       auth=(ADMIN, ADMIN_PW))
    bad = req.replace("Win32_Share", "NoSuchClass")
    get(c.http, "/cimom", method="POST", body=bad.encode(), headers=hdr, auth=(ADMIN, ADMIN_PW))
    st, _, body = get(c.metrics, "/metrics", tls=True, auth=(ADMIN, ADMIN_PW))
    samples, _, _ = parse(body.decode())
    ok = value(samples, "smbcim_requests_total", operation="EnumerateInstanceNames",
               status="OK")
    bad_n = value(samples, "smbcim_requests_total", operation="EnumerateInstanceNames",
                  status="CIM_ERR_INVALID_CLASS")
    check("C: smbcim_requests_total by operation and status (2 OK, 1 INVALID_CLASS)",
          ok == 2 and bad_n == 1, (ok, bad_n))

    # configuration errors, each at start with one line
    empty = os.path.join(tmp, "empty.conf")
    for args, want in (
            (["--metrics", "127.0.0.1:%d" % free_port(), "--metrics-auth"], "metrics-auth"),
            (["--metrics", "127.0.0.1:%d" % free_port(), "--metrics-tls"], "metrics-tls"),
            (["--metrics", "nonsense"], "--metrics"),
            (["--metrics", "127.0.0.1:99999"], "--metrics")):
        p = sh(SMBCIMD, "--foreground", "--config", empty, "--snapshot",
               os.path.join(FIXTURES, "fs01.json"), "--https", "none", "--http",
               "127.0.0.1:%d" % free_port(), *(COMMON + args), timeout=20)
        check("start refused: %s -> exit 2 naming %s" % (" ".join(args[2:]) or args[1], want),
              p.returncode == 2 and want in p.stderr and p.stderr.count("\n") == 1,
              (p.returncode, p.stderr))
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    p = sh(SMBCIMD, "--foreground", "--config", empty, "--snapshot",
           os.path.join(FIXTURES, "fs01.json"), "--https", "none", "--http",
           "127.0.0.1:%d" % free_port(), "--metrics", "127.0.0.1:%d" % port, *COMMON,
           timeout=20)
    busy.close()
    check("start refused: the metrics port in use -> exit 1, the address named",
          p.returncode == 1 and ("127.0.0.1:%d" % port) in p.stderr, (p.returncode, p.stderr))


def healthz_breaks(a, snap):
    with open(snap, "rb") as f:
        good = f.read()
    with open(snap + ".new", "w") as f:
        f.write('{"smbcim_snapshot": 1, "shares": [\n')
    os.rename(snap + ".new", snap)
    st, h, body = get(a.metrics, "/healthz")
    text = body.decode()
    check("A: snapshot broken -> /healthz 503 with one line saying why",
          st == 503 and text.count("\n") == 1 and "cannot be read" in text, (st, text))
    st, _, body = get(a.metrics, "/metrics")
    samples, _, _ = parse(body.decode())
    check("A: ... and /metrics still 200 with smbcim_source_up 0, no share series",
          st == 200 and value(samples, "smbcim_source_up") == 0 and
          not by_share(samples, "smbcim_share_connections"), body[:300])
    with open(snap + ".new", "wb") as f:
        f.write(good)
    os.rename(snap + ".new", snap)
    st, _, body = get(a.metrics, "/healthz")
    check("A: repaired -> /healthz 200 again", st == 200 and body == b"ok\n", (st, body))


# ---- Prometheus ------------------------------------------------------------------------------

class Prometheus:
    def __init__(self, tmp, config_text):
        self.port = free_port()
        self.dir = os.path.join(tmp, "prometheus")
        os.makedirs(os.path.join(self.dir, "data"))
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.log = os.path.join(self.dir, "prometheus.log")
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + self.config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port,
             "--web.console.templates=" + os.path.join(self.dir, "none"),
             "--web.console.libraries=" + os.path.join(self.dir, "none")],
            stdout=self.logf, stderr=self.logf)

    def api(self, path, **params):
        q = urllib.parse.urlencode(params)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path + ("?" + q if q else ""))
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def query(self, expr):
        st, body = self.api("/api/v1/query", query=expr)
        if st != 200:
            raise RuntimeError("query %s: %d %s" % (expr, st, body[:300]))
        return json.loads(body)["data"]["result"]

    def ready(self, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.api("/-/ready")[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.logf.close()


def prom_config(a, b, c, tmp):
    rules = os.path.join(tmp, "smbcim-rules.yml")
    shutil.copy(os.path.join(CONTRIB, "smbcim-rules.yml"), rules)
    pwfile = os.path.join(tmp, "metrics-password")
    with open(pwfile, "w") as f:
        f.write(ADMIN_PW)
    return """global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - %(rules)s
scrape_configs:
  - job_name: smbcim
    static_configs:
      - targets: ['127.0.0.1:%(a)d']
        labels: {server: fs01}
      - targets: ['127.0.0.1:%(b)d']
        labels: {server: hostile}
  - job_name: smbcim-secure
    scheme: https
    tls_config:
      ca_file: %(ca)s
      server_name: localhost
    basic_auth:
      username: %(user)s
      password_file: %(pw)s
    static_configs:
      - targets: ['127.0.0.1:%(c)d']
        labels: {server: fs01-secure}
""" % {"rules": rules, "a": a.metrics, "b": b.metrics, "c": c.metrics,
       "ca": os.path.join(tmp, "cert.pem"), "user": ADMIN, "pw": pwfile}


def prometheus_checks(prom, a, b, c, fig_a, fig_b):
    check("prometheus: started and ready (127.0.0.1:%d)" % prom.port, prom.ready(),
          prom.logtext()[-2000:])
    targets = {"127.0.0.1:%d" % d.metrics: f for d, f in ((a, fig_a), (b, fig_b), (c, fig_a))}
    deadline = time.monotonic() + 40
    seen = {}
    while time.monotonic() < deadline:
        try:
            res = prom.query('smbcim_shares')
            seen = {r["metric"]["instance"]: r["value"][1] for r in res}
            ups = {r["metric"]["instance"]: r["value"][1] for r in prom.query("up")}
            if set(seen) == set(targets) and all(ups.get(t) == "1" for t in targets):
                break
        except (OSError, RuntimeError):
            pass
        time.sleep(0.5)
    check("prometheus: scraped all three targets (up == 1)", set(seen) == set(targets),
          (seen, prom.logtext()[-1500:]))
    st, body = prom.api("/api/v1/targets")
    active = json.loads(body)["data"]["activeTargets"] if st == 200 else []
    errors = {t["scrapeUrl"]: t["lastError"] for t in active if t["lastError"]}
    check("prometheus: no scrape error on any target (OpenMetrics parsed)",
          len(active) == 3 and not errors, (errors, active))
    for inst, fig in targets.items():
        for metric, field in (("smbcim_share_connections", "connections"),
                              ("smbcim_share_tree_connects", "tree_connects"),
                              ("smbcim_share_users", "users"),
                              ("smbcim_share_open_files", "open_files")):
            res = prom.query('%s{instance="%s"}' % (metric, inst))
            got = {r["metric"]["share"]: int(float(r["value"][1])) for r in res}
            want = {k: v[field] for k, v in fig["shares"].items()}
            check("prometheus %s: %s per share = the CLI's (%d shares)" % (inst, metric,
                                                                             len(want)),
                  got == want, (got, want))
        for metric, want in (("smbcim_sessions", fig["sessions"]),
                             ("smbcim_connections", fig["connections"])):
            res = prom.query('%s{instance="%s"}' % (metric, inst))
            got = int(float(res[0]["value"][1])) if res else None
            check("prometheus %s: %s = the CLI's (%d)" % (inst, metric, want), got == want,
                  (got, want))
    res = prom.query('smbcim_share_user_connections{instance="127.0.0.1:%d"}' % b.metrics)
    got = {(r["metric"]["share"], r["metric"]["user"]): int(float(r["value"][1])) for r in res}
    check("prometheus: hostile user names (ESC, BEL, newline) come back byte for byte",
          got == fig_b["per_user"], (got, fig_b["per_user"]))
    res = prom.query('smbcim_source_info{instance="127.0.0.1:%d"}' % a.metrics)
    check("prometheus: smbcim_source_info with its labels",
          len(res) == 1 and res[0]["metric"].get("route") == "snapshot", res)
    res = prom.query('smbcim_build_info')
    check("prometheus: smbcim_build_info (an OpenMetrics info family) for each target",
          len(res) == 3 and all(r["metric"].get("version") for r in res), res)
    # the rules of contrib/prometheus/, loaded
    st, body = prom.api("/api/v1/rules")
    groups = json.loads(body)["data"]["groups"] if st == 200 else []
    rules = [r for g in groups for r in g["rules"]]
    deadline = time.monotonic() + 15
    want_sum = fig_a["connections"] + fig_b["connections"]
    got_sum = None
    while time.monotonic() < deadline:
        res = prom.query('job:smbcim_connections:sum{job="smbcim"}')
        got_sum = int(float(res[0]["value"][1])) if res else None
        if got_sum == want_sum:
            break
        time.sleep(0.5)
    check("prometheus: contrib rules loaded and healthy (%d)" % len(rules),
          len(rules) >= 8 and all(r.get("health") == "ok" for r in rules),
          [(r["name"], r.get("health"), r.get("lastError")) for r in rules])
    check("prometheus: recording rule job:smbcim_connections:sum = %d" % want_sum,
          got_sum == want_sum, got_sum)
    res = prom.query('ALERTS{alertname=~"Smbcim.*"}')
    check("prometheus: no smbcim alert for healthy targets", not res, res)


def promtool_checks(tmp):
    # the fleet configuration of docs/monitoring.md, in a directory of its own
    d = os.path.join(tmp, "fleet")
    os.makedirs(os.path.join(d, "smbcim", "targets"))
    for f in ("prometheus.yml", "smbcim-rules.yml", "smbcim-rules.test.yml"):
        shutil.copy(os.path.join(CONTRIB, f), d)
    shutil.copy(os.path.join(tmp, "cert.pem"), os.path.join(d, "smbcim", "ca.pem"))
    with open(os.path.join(d, "smbcim", "password"), "w") as f:
        f.write("x\n")
    with open(os.path.join(d, "smbcim", "targets", "more.yml"), "w") as f:
        f.write("- targets: ['fs04.example.org:9979']\n")
    p = sh(PROMTOOL, "check", "config", os.path.join(d, "prometheus.yml"))
    check("promtool check config contrib/prometheus/prometheus.yml",
          p.returncode == 0 and "SUCCESS" in p.stdout, (p.stdout, p.stderr))
    p = sh(PROMTOOL, "check", "rules", os.path.join(d, "smbcim-rules.yml"))
    check("promtool check rules contrib/prometheus/smbcim-rules.yml",
          p.returncode == 0 and "SUCCESS" in p.stdout, (p.stdout, p.stderr))
    p = sh(PROMTOOL, "test", "rules", os.path.join(d, "smbcim-rules.test.yml"))
    check("promtool test rules: every alert fires when it should, not before",
          p.returncode == 0 and "SUCCESS" in p.stdout, (p.stdout, p.stderr))
    # docs/monitoring.md shows these files as they are
    with open(os.path.join(ROOT, "docs", "monitoring.md")) as f:
        doc = f.read()
    for name in ("prometheus.yml", "smbcim-rules.yml"):
        with open(os.path.join(CONTRIB, name)) as f:
            body = f.read()
        check("docs/monitoring.md shows contrib/prometheus/%s as it is" % name,
              ("```yaml\n" + body + "```") in doc, name)


# ---- the screenshot ----------------------------------------------------------------------------

SHOT_SHARES = ("Projects", "Finance", "Home", "Public", "Scratch")
# connections per share, every 15 s (two minutes of a working morning)
SHOT_STEPS = ((12, 5, 20, 8, 2), (15, 6, 18, 9, 2), (18, 6, 15, 11, 3), (22, 8, 12, 10, 1),
              (25, 7, 10, 12, 0), (21, 9, 13, 14, 1), (17, 10, 16, 13, 2), (14, 8, 19, 11, 4))


def small_snapshot(counts):
    """A snapshot (docs/snapshot-format.md) with counts[i] clients, each
    with its own session, on share SHOT_SHARES[i]."""
    shares = [{"name": "IPC$", "kind": "ipc", "administrative": True, "path": "/tmp",
               "comment": "IPC Service", "max_connections": 0}]
    shares += [{"name": n, "kind": "disk", "administrative": False,
                "path": "/srv/" + n.lower(), "comment": n, "max_connections": 0}
               for n in SHOT_SHARES]
    sessions, tcons = {}, {}
    k = 0
    for share, n in zip(SHOT_SHARES, counts):
        for i in range(n):
            k += 1
            sid, ip = str(1000 + k), "10.1.%d.%d" % (k // 200, k % 200 + 1)
            srv = {"pid": str(5000 + k), "task_id": "0", "vnn": "4294967295",
                   "unique_id": str(17693057673250600000 + k)}
            sessions[sid] = {"session_id": sid, "server_id": srv, "uid": 2000 + k, "gid": 100,
                             "username": "user%03d" % k, "groupname": "users",
                             "remote_machine": ip, "hostname": "ipv4:%s:50000" % ip,
                             "session_dialect": "SMB3_11",
                             "encryption": {"cipher": "-", "degree": "none"},
                             "signing": {"cipher": "AES-128-GMAC", "degree": "partial"}}
            tcons[str(3000 + k)] = {"service": share, "server_id": srv,
                                    "tcon_id": str(3000 + k), "session_id": sid, "machine": ip,
                                    "connected_at": "2026-11-24T09:00:00.000000+00:00",
                                    "encryption": {"cipher": "-", "degree": "none"},
                                    "signing": {"cipher": "-", "degree": "none"}}
    return json.dumps({"smbcim_snapshot": 1,
                       "server": {"name": "fs01", "taken_at": "2026-11-24T12:00:00.000000+00:00"},
                       "shares": shares,
                       "smbstatus": {"timestamp": "2026-11-24T12:00:00.000000+0000",
                                     "version": "4.17.12-Debian",
                                     "smb_conf": "/etc/samba/smb.conf", "sessions": sessions,
                                     "tcons": tcons, "open_files": {}}})


def screenshot(prom, a, a_snap, tmp, out):
    """Feeds A a changing state for two minutes and photographs Prometheus'
    graph of its smbcim_share_connections (headless chromium)."""
    for counts in SHOT_STEPS:
        with open(a_snap + ".new", "w") as f:
            f.write(small_snapshot(counts))
        os.rename(a_snap + ".new", a_snap)
        time.sleep(15)
    res = prom.query('smbcim_share_connections{instance="127.0.0.1:%d",share="Projects"}'
                     % a.metrics)
    check("screenshot: Prometheus followed the changing state (Projects: %d)"
          % SHOT_STEPS[-1][0], res and int(float(res[0]["value"][1])) == SHOT_STEPS[-1][0], res)
    chromium = shutil.which("chromium")
    if not chromium:
        check("screenshot: chromium installed", False, "apt-get install chromium")
        return
    expr = 'smbcim_share_connections{server="fs01",share!="IPC$"}'
    url = ("http://127.0.0.1:%d/graph?g0.expr=%s&g0.tab=0&g0.stacked=0&g0.show_exemplars=0"
           "&g0.range_input=2m" % (prom.port, urllib.parse.quote(expr)))
    prof = os.path.join(tmp, "chromium-profile")
    p = sh(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--user-data-dir=" + prof, "--virtual-time-budget=15000",
           "--screenshot=" + os.path.abspath(out), "--window-size=1200,900", url, timeout=120)
    check("screenshot: %s written" % out, p.returncode == 0 and os.path.getsize(out) > 10000,
          (p.returncode, p.stderr[-500:]))


# ---- main ----------------------------------------------------------------------------------------

def main():
    shot = None
    if len(sys.argv) == 3 and sys.argv[1] == "--screenshot":
        shot = sys.argv[2]
    if os.geteuid() != 0:
        print("run_metrics_e2e: must run as root (users, PAM)")
        print("0 passed, 1 failed")
        return 1
    for tool in (PROMETHEUS, PROMTOOL, shutil.which("openssl") or "openssl", SMBCIMD, SMBCIM):
        if not os.access(tool, os.X_OK):
            check("%s installed (scripts/deps.sh)" % tool, False)
            print("%d passed, %d failed" % (tally.passed, tally.failed))
            return 1
    tmp = tempfile.mkdtemp(prefix="smbcim-metrics-e2e.")
    os.chmod(tmp, 0o755)
    accounts = TempAccounts(GECOS)
    daemons, prom = [], None
    try:
        open(os.path.join(tmp, "empty.conf"), "w").close()
        p = self_signed_cert(tmp, "localhost", "-addext",
                             "subjectAltName=DNS:localhost,IP:127.0.0.1")
        check("setup: a certificate for localhost and 127.0.0.1", p.returncode == 0, p.stderr)
        accounts.pam_service(PAM_SERVICE)
        accounts.group(GROUP)
        accounts.user(ADMIN, ADMIN_PW, [GROUP])
        accounts.user(USER, USER_PW)
        check("setup: users %s (admin) and %s, PAM service %s" % (ADMIN, USER, PAM_SERVICE),
              True)

        fs01, hostile = (os.path.join(FIXTURES, n) for n in ("fs01.json", "hostile.json"))
        a_snap = os.path.join(tmp, "a-snapshot.json")
        shutil.copy(fs01, a_snap)
        fig_a, fig_b = cli_figures(fs01), cli_figures(hostile)
        common = COMMON
        a = Daemon(tmp, "a", ["--snapshot", a_snap] + common, "metrics = @METRICS@\n")
        daemons.append(a)
        b = Daemon(tmp, "b", ["--snapshot", hostile, "--metrics", "@METRICS@",
                              "--metrics-per-user"] + common)
        daemons.append(b)
        c = Daemon(tmp, "c", ["--snapshot", fs01, "--metrics", "@METRICS@", "--metrics-tls",
                              "--metrics-auth", "--metrics-per-user", "--allow-plain-http",
                              "--cert", os.path.join(tmp, "cert.pem"),
                              "--key", os.path.join(tmp, "key.pem")] + common)
        daemons.append(c)
        for name, d in (("A (metrics from the configuration file)", a), ("B", b), ("C", c)):
            check("setup: smbcimd %s with its metrics listener on 127.0.0.1:%d" %
                  (name, d.metrics), d.up, d.logtext()[-1500:])
        check("smbcimd logs the metrics listener",
              "(metrics)" in a.logtext() and "(metrics, TLS)" in c.logtext(),
              a.logtext() + c.logtext())

        direct_checks(a, b, c, tmp, fig_a, fig_b)
        healthz_breaks(a, a_snap)
        promtool_checks(tmp)

        prom = Prometheus(tmp, prom_config(a, b, c, tmp))
        p = sh(PROMTOOL, "check", "config", prom.config)
        check("promtool check config: the test's own configuration", p.returncode == 0,
              (p.stdout, p.stderr))
        prometheus_checks(prom, a, b, c, fig_a, fig_b)
        if shot:
            screenshot(prom, a, a_snap, tmp, shot)
        for d in daemons:
            check("smbcimd %s still running" % os.path.basename(d.log), d.proc.poll() is None,
                  d.logtext()[-1500:])
        prom.stop()
        prom = None
        for d in daemons:
            rc = d.stop()
            check("SIGTERM: smbcimd %s exits 0 (no sanitizer report)" % os.path.basename(d.log),
                  rc == 0, d.logtext()[-3000:])
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        check("unexpected error", False, "%s: %s" % (type(e).__name__, e))
    finally:
        if prom:
            prom.stop()
        for d in daemons:
            d.stop()
        accounts.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
