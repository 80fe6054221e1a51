#!/usr/bin/python3
"""End-to-end test of smbcimd as an operator meets it (issue 11, "An
operator's daemon", and findings 8, 14 and 15).

    /usr/bin/python3 tests/e2e/run_operator_e2e.py     (as root; run make first)

Set-up: a PAM service file of its own (/etc/pam.d/smbcimd-ope2e, a copy of
dist/pam.d/smbcimd), a group smbcim-opadm and users smbcim_o* with
passwords, certificates from dist/smbcimd-mkcert and openssl, and smbcimd
($SMBCIM_BUILD, default build/) on 127.0.0.1 serving tests/fixtures/fs01.json.
Everything created is removed at the end.

Checks:
  - the checks before starting, one line each and exit status 1: the PAM
    helper not executable or missing, a PAM service that does not exist, an
    admin group that does not exist, a snapshot that cannot be read, a
    certificate that does not load, a key that does not match, a port in
    use (in the foreground and detached);
  - --check-config with a good and with bad configurations;
  - the pid file of a detached server: written, locked, removed at exit;
  - SIGHUP: a changed setting taken (allow-plain-http), a listener change
    said to need a restart, a new certificate served (its SHA-256 compared)
    while an established keep-alive TLS connection goes on, a broken file
    or a key that does not match refused with the old configuration kept;
  - the login cache: emptied by SIGHUP (an old password refused at once),
    a password change effective within auth-cache-seconds, an account
    removed or taken out of the admin group effective at the next request;
  - failed logins: the per-user lockout (the right password refused too,
    logged once), the global budget and the helper pool (64 connections
    guessing from one address, then from many addresses with fresh user
    names, while a legitimate user logs in), the time of a failure for an
    existing and an unknown user (medians compared);
  - smbcimd-mkcert: --help, a usage error, the subjectAltName, errors shown.
Prints "ok"/"FAIL" lines and ends with "N passed, N failed".
"""
import base64
import hashlib
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import Tally, TempAccounts, free_port, self_signed_cert, set_password, sh  # noqa: E402
BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))
SMBCIMD = os.path.join(BUILD, "smbcimd")
MKCERT = os.path.join(ROOT, "dist", "smbcimd-mkcert")
FS01 = os.path.join(ROOT, "tests", "fixtures", "fs01.json")
SERVICE = "smbcimd-ope2e"
GROUP = "smbcim-opadm"
ADMIN, ADMIN_PW = "smbcim_oadmin", "Adm1n-op-e2e"
USER, USER_PW = "smbcim_ouser", "Us3r-op-e2e"
VICTIM, VICTIM_PW = "smbcim_ovictim", "V1ctim-op-e2e"
NEWBIE, NEWBIE_PW = "smbcim_onew", "N3wbie-op-e2e"
GONE, GONE_PW = "smbcim_ogone", "G0ne-op-e2e"
GECOS = "smbcim operator e2e temporary user"

tally = Tally()
check = tally.check


# ---- the server ------------------------------------------------------------------

TMP = None


def base_settings(extra=None):
    s = {"snapshot": FS01, "pam-service": SERVICE, "admin-group": GROUP,
         "cert": os.path.join(TMP, "a", "cert.pem"), "key": os.path.join(TMP, "a", "key.pem"),
         "allow-plain-http": "yes", "request-seconds": "5", "timeout": "20"}
    s.update(extra or {})
    return s


class Daemon:
    """smbcimd --foreground with a configuration file of its own (rewritten
    for a reload)."""

    def __init__(self, name, extra=None, binary=None, args=(), foreground=True):
        self.name = name
        self.http = free_port()
        self.https = free_port()
        self.conf = os.path.join(TMP, name + ".conf")
        self.settings = base_settings(extra)
        self.settings.setdefault("http", "127.0.0.1:%d" % self.http)
        self.settings.setdefault("https", "127.0.0.1:%d" % self.https)
        self.write()
        self.log = os.path.join(TMP, name + ".log")
        self.logf = open(self.log, "w")
        argv = [binary or SMBCIMD] + (["--foreground"] if foreground else []) + \
            ["--config", self.conf] + list(args)
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=self.logf)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.https), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
                if self.proc.poll() is not None:
                    break

    def write(self):
        with open(self.conf, "w") as f:
            for k, v in self.settings.items():
                f.write("%s = %s\n" % (k, v))

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def hup(self, timeout=10):
        """SIGHUP; waits for the reload's last line (taken or refused)."""
        before = len(re.findall(r"SIGHUP: (configuration|the)", self.logtext()))
        self.proc.send_signal(signal.SIGHUP)
        t0 = time.time()
        while time.time() - t0 < timeout:
            if len(re.findall(r"SIGHUP: (configuration|the)", self.logtext())) > before:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logf.close()
        return self.proc.returncode


BODY = ('<?xml version="1.0" encoding="utf-8" ?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
        '<MESSAGE ID="7" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="EnumerateInstanceNames">'
        '<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>'
        '<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="%s"/></IPARAMVALUE>'
        '</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>')


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(d, tls, src="127.0.0.1", timeout=60):
    if tls:
        return http.client.HTTPSConnection("127.0.0.1", d.https, context=tls_ctx(),
                                           timeout=timeout, source_address=(src, 0))
    return http.client.HTTPConnection("127.0.0.1", d.http, timeout=timeout,
                                      source_address=(src, 0))


def post(d, user, pw, tls=False, src="127.0.0.1", cls="Win32_Share", conn=None, timeout=60):
    """One EnumerateInstanceNames; (status, headers, body, seconds)."""
    c = conn or connect(d, tls, src, timeout)
    h = {"Content-Type": 'application/xml; charset="utf-8"', "CIMOperation": "MethodCall",
         "CIMMethod": "EnumerateInstanceNames", "CIMObject": "root%2Fcimv2"}
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, pw)).encode()).decode()
    t0 = time.monotonic()
    try:
        c.request("POST", "/cimom", body=(BODY % cls).encode(), headers=h)
        r = c.getresponse()
        body = r.read().decode("utf-8", "replace")
        return r.status, dict(r.getheaders()), body, time.monotonic() - t0
    finally:
        if conn is None:
            c.close()


def cim_error(body):
    m = re.search(r'<ERROR CODE="(\d+)"', body)
    return int(m.group(1)) if m else None


def served_fingerprint(port):
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def file_fingerprint(path):
    with open(path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def start_fails(label, extra=None, binary=None, args=(), foreground=True, want=None):
    """smbcimd refuses to start: exit 1 and one line, matching `want`."""
    http_port, https_port = free_port(), free_port()
    s = base_settings(extra)
    s.setdefault("http", "127.0.0.1:%d" % http_port)
    s.setdefault("https", "127.0.0.1:%d" % https_port)
    conf = os.path.join(TMP, "fails.conf")
    with open(conf, "w") as f:
        for k, v in s.items():
            f.write("%s = %s\n" % (k, v))
    argv = [binary or SMBCIMD] + (["--foreground"] if foreground else []) + \
        ["--config", conf, "--pid-file", os.path.join(TMP, "fails.pid")] + list(args)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired as e:
        check(label, False, "still running after 20 s: %s" % e)
        return None
    lines = [l for l in (p.stdout + p.stderr).splitlines() if l.strip()]
    ok = p.returncode == 1 and len(lines) == 1 and (want is None or re.search(want, lines[0]))
    check("%s: exit 1, one line: %s" % (label, lines[0] if lines else "(none)"), ok,
          (p.returncode, lines))
    return lines


# ---- the checks --------------------------------------------------------------------

def startup_checks():
    d1 = os.path.join(TMP, "noexec")
    os.mkdir(d1)
    shutil.copy(SMBCIMD, os.path.join(d1, "smbcimd"))
    shutil.copy(os.path.join(BUILD, "smbcimd-auth"), os.path.join(d1, "smbcimd-auth"))
    os.chmod(os.path.join(d1, "smbcimd-auth"), 0o644)
    start_fails("the PAM helper not executable", binary=os.path.join(d1, "smbcimd"),
                want=r"the PAM helper %s/smbcimd-auth is not executable" % re.escape(d1))
    d2 = os.path.join(TMP, "nohelper")
    os.mkdir(d2)
    shutil.copy(SMBCIMD, os.path.join(d2, "smbcimd"))
    compiled = [l for l in sh("strings", SMBCIMD).stdout.splitlines()
                if l.startswith("/") and l.endswith("libexec/smbcim")]
    installed = compiled and os.access(os.path.join(compiled[0], "smbcimd-auth"), os.X_OK)
    if installed:
        check("the PAM helper missing: skipped, %s/smbcimd-auth is installed" % compiled[0],
              True)
    else:
        start_fails("the PAM helper missing (none next to the program, none installed)",
                    binary=os.path.join(d2, "smbcimd"),
                    want=r"the PAM helper /\S*libexec/smbcim/smbcimd-auth is missing")
    start_fails("a PAM service that does not exist", {"pam-service": "smbcimd-no-such-svc"},
                want=r"the PAM service 'smbcimd-no-such-svc' does not exist \(no "
                     r"/etc/pam\.d/smbcimd-no-such-svc; PAM would fall back to /etc/pam.d/other")
    start_fails("an admin group that does not exist", {"admin-group": "smbcim-no-such-grp"},
                want=r"the admin group 'smbcim-no-such-grp' does not exist")
    start_fails("a snapshot that does not exist", {"snapshot": "/nonexistent/fs.json"},
                want=r"the snapshot /nonexistent/fs\.json cannot be read by the user 'smbcim': No such file")
    start_fails("a snapshot that is a directory", {"snapshot": TMP},
                want=r"the snapshot %s is not a regular file" % re.escape(TMP))
    junk = os.path.join(TMP, "junk.pem")
    with open(junk, "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    start_fails("a certificate that does not load", {"cert": junk},
                want=r"https \(as the user 'smbcim'\): cannot load the certificate %s: " % re.escape(junk))
    start_fails("a certificate file that does not exist", {"cert": "/nonexistent/c.pem"},
                want=r"https \(as the user 'smbcim'\): cannot read the certificate /nonexistent/c\.pem: No such file")
    start_fails("a key that does not belong to the certificate",
                {"key": os.path.join(TMP, "b", "key.pem")},
                want=r"https \(as the user 'smbcim'\): the key \S+/b/key\.pem does not belong to the certificate")
    held = socket.socket()
    held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    port = held.getsockname()[1]
    for fg in (True, False):
        start_fails("a port in use (%s)" % ("foreground" if fg else "detached"),
                    {"https": "127.0.0.1:%d" % port}, foreground=fg,
                    want=r"cannot listen on 127\.0\.0\.1:%d \(https\): Address already in use$"
                    % port)
    held.close()


def check_config():
    conf = os.path.join(TMP, "cc.conf")

    def run(settings):
        with open(conf, "w") as f:
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        return sh(SMBCIMD, "--check-config", "--config", conf, timeout=20)

    good = base_settings({"http": "127.0.0.1:%d" % free_port(),
                          "https": "127.0.0.1:%d" % free_port()})
    p = run(good)
    check("--check-config, a good configuration: 'configuration OK', exit 0",
          p.returncode == 0 and p.stdout.strip() == "configuration OK" and not p.stderr.strip(),
          (p.returncode, p.stdout, p.stderr))
    # with a port that is in use: --check-config does not try ports (the
    # running server holds them)
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    held.listen(1)
    p = run(dict(good, https="127.0.0.1:%d" % held.getsockname()[1]))
    held.close()
    check("--check-config while the server holds its port: OK", p.returncode == 0, p.stderr)
    bad = dict(good, **{"admin-group": "smbcim-no-such-grp",
                        "key": os.path.join(TMP, "b", "key.pem")})
    p = run(bad)
    lines = p.stderr.strip().splitlines()
    check("--check-config, two errors: two lines, exit 1, no OK (%s)" % " | ".join(lines),
          p.returncode == 1 and len(lines) == 2 and "configuration OK" not in p.stdout and
          "admin group 'smbcim-no-such-grp'" in lines[0] and "does not belong" in lines[1],
          (p.returncode, p.stdout, p.stderr))
    p = run(dict(good, nonsense="1"))
    check("--check-config, an unknown setting: its file and line, exit 1",
          p.returncode == 1 and "cc.conf:" in p.stderr and "unknown setting 'nonsense'" in
          p.stderr, (p.returncode, p.stderr))


def pid_file():
    pidf = os.path.join(TMP, "run", "smbcimd.pid")
    os.mkdir(os.path.dirname(pidf))
    conf = os.path.join(TMP, "pid.conf")
    http_port, https_port = free_port(), free_port()
    with open(conf, "w") as f:
        for k, v in base_settings({"http": "127.0.0.1:%d" % http_port,
                                   "https": "127.0.0.1:%d" % https_port,
                                   "pid-file": pidf}).items():
            f.write("%s = %s\n" % (k, v))
    t0 = time.time()
    p = sh(SMBCIMD, "--config", conf, timeout=30)
    dt = time.time() - t0
    pid = None
    try:
        with open(pidf) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        pass
    check("detached: the command returns 0 once the server is up (%.2f s)" % dt,
          p.returncode == 0, (p.returncode, p.stderr))
    if not check("pid file %s written with the daemon's pid (%s)" % (pidf, pid),
                 pid is not None and os.path.exists("/proc/%d" % pid) and
                 os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(SMBCIMD),
                 (pid, p.stderr)):
        return
    try:
        class D:
            http, https = http_port, https_port
        st, h, body, _ = post(D, USER, USER_PW, tls=True)
        check("... and it answers", st == 200, (st, body[:200]))
        # a second server with the same pid file (other ports) is refused
        conf2 = os.path.join(TMP, "pid2.conf")
        with open(conf2, "w") as f:
            for k, v in base_settings({"http": "127.0.0.1:%d" % free_port(),
                                       "https": "127.0.0.1:%d" % free_port(),
                                       "pid-file": pidf}).items():
                f.write("%s = %s\n" % (k, v))
        p2 = sh(SMBCIMD, "--config", conf2, timeout=30)
        check("a second server with that pid file: exit 1, 'another smbcimd (pid %d)'" % pid,
              p2.returncode == 1 and "another smbcimd (pid %d) holds the pid file" % pid
              in p2.stderr, (p2.returncode, p2.stderr))
        with open(pidf) as f:
            check("... and the pid file still names the first", f.read().strip() == str(pid))
    finally:
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            if not os.path.exists("/proc/%d" % pid):
                break
            time.sleep(0.05)
    check("SIGTERM: the daemon is gone and its pid file removed",
          not os.path.exists("/proc/%d" % pid) and not os.path.exists(pidf),
          os.path.exists(pidf))


def reload_and_certificates():
    d = Daemon("reload")
    try:
        fa = file_fingerprint(os.path.join(TMP, "a", "cert.pem"))
        fb = file_fingerprint(os.path.join(TMP, "b", "cert.pem"))
        before = served_fingerprint(d.https)
        check("the served certificate is a's (SHA-256 %s...)" % before[:16], before == fa,
              (before, fa))
        ka = connect(d, True)
        st, _, _, _ = post(d, USER, USER_PW, conn=ka)
        sock_before = ka.sock
        check("a keep-alive TLS connection: first request", st == 200, st)
        st, _, _, _ = post(d, USER, USER_PW, tls=False)
        check("plain HTTP allowed before the reload", st == 200, st)
        other = free_port()
        d.settings.update({"cert": os.path.join(TMP, "b", "cert.pem"),
                           "key": os.path.join(TMP, "b", "key.pem"),
                           "allow-plain-http": "no", "http": "127.0.0.1:%d" % other})
        d.write()
        check("SIGHUP: reloaded", d.hup(), d.logtext()[-1500:])
        after = served_fingerprint(d.https)
        check("new TLS connections get the new certificate (SHA-256 %s...)" % after[:16],
              after == fb and after != before, (after, fb))
        try:
            st, _, _, _ = post(d, USER, USER_PW, conn=ka)
        except (OSError, http.client.HTTPException) as e:
            st = repr(e)
        check("the established keep-alive connection goes on (same socket, answered)",
              st == 200 and ka.sock is sock_before, st)
        st, h, body, _ = post(d, USER, USER_PW, tls=False)
        check("the changed setting is taken: plain HTTP now 403, naming the HTTPS port %d"
              % d.https, st == 403 and "port %d" % d.https in body, (st, body))
        log = d.logtext()
        check("the listener change is logged as needing a restart, the old one kept",
              "'http' changed in the configuration: that needs a restart" in log and
              socket.create_connection(("127.0.0.1", d.http), 2) is not None, log[-1500:])
        check("... and the reload logged with the new certificate's fingerprint",
              "SIGHUP: new TLS connections get the certificate %s" % d.settings["cert"] in log
              and "login cache emptied" in log, log[-1500:])
        # a broken file: refused, everything kept
        with open(d.conf, "a") as f:
            f.write("nonsense = 1\n")
        d.hup()
        log = d.logtext()
        check("SIGHUP with an unknown setting: logged, the running configuration stays",
              "unknown setting 'nonsense'" in log and
              "SIGHUP: the configuration has errors" in log and d.proc.poll() is None and
              served_fingerprint(d.https) == fb, log[-800:])
        # a key that does not match: refused by the checks, certificate kept
        d.settings.update({"cert": os.path.join(TMP, "a", "cert.pem")})
        d.write()
        d.hup()
        log = d.logtext()
        check("SIGHUP with a key that does not belong to the certificate: refused, b still "
              "served", "does not belong to the certificate" in log and
              "SIGHUP: the new configuration fails its checks" in log and
              served_fingerprint(d.https) == fb, log[-800:])
        try:
            st, _, _, _ = post(d, USER, USER_PW, conn=ka)
        except (OSError, http.client.HTTPException) as e:
            st = repr(e)
        check("the keep-alive connection still answers after three reloads",
              st == 200 and ka.sock is sock_before, st)
        ka.close()
    finally:
        check("smbcimd still running after the reloads", d.proc.poll() is None,
              d.logtext()[-1500:])
        rc = d.stop()
        check("SIGTERM after the reloads: exit 0 (under ASan: no leak of the retired "
              "configurations and certificates)", rc == 0, (rc, d.logtext()[-2000:]))


def login_cache():
    d = Daemon("cache", {"auth-cache-seconds": "300"})
    try:
        st, _, _, _ = post(d, USER, USER_PW, tls=True)
        check("cache: a login", st == 200, st)
        set_password(USER, USER_PW + "-new")
        st, _, _, _ = post(d, USER, USER_PW, tls=True)
        check("cache: the old password still works while cached (auth-cache-seconds 300)",
              st == 200, st)
        d.hup()
        st, _, _, dt = post(d, USER, USER_PW, tls=True)
        check("cache: after SIGHUP the old password is refused at once (401, %.2f s)" % dt,
              st == 401, st)
        st, _, _, _ = post(d, USER, USER_PW + "-new", tls=True)
        check("cache: ... and the new one works", st == 200, st)
        set_password(USER, USER_PW)
        # the admin group: checked on every request, cached or not
        st, _, body, _ = post(d, ADMIN, ADMIN_PW, tls=True, cls="Win32_ServerSession")
        check("admin: an admin reads Win32_ServerSession", st == 200 and cim_error(body) is None,
              (st, body[:300]))
        t0 = time.time()
        sh("gpasswd", "-d", ADMIN, GROUP)
        st, _, body, _ = post(d, ADMIN, ADMIN_PW, tls=True, cls="Win32_ServerSession")
        check("admin: taken out of %s, the next request (%.2f s later, the login cached) is "
              "CIM_ERR_ACCESS_DENIED" % (GROUP, time.time() - t0),
              st == 200 and cim_error(body) == 2, (st, body[:300]))
        check("... and logged", "user '%s' is no longer in the admin group" % ADMIN
              in d.logtext(), d.logtext()[-600:])
        sh("gpasswd", "-a", ADMIN, GROUP)
        st, _, body, _ = post(d, ADMIN, ADMIN_PW, tls=True, cls="Win32_ServerSession")
        check("admin: put back, the next request reads it again",
              st == 200 and cim_error(body) is None, (st, body[:300]))
        # an account removed
        sh("useradd", "-M", "-s", "/usr/sbin/nologin", "-c", GECOS, GONE)
        set_password(GONE, GONE_PW)
        st, _, _, _ = post(d, GONE, GONE_PW, tls=True)
        check("account: %s logs in" % GONE, st == 200, st)
        sh("userdel", GONE)
        st, _, _, _ = post(d, GONE, GONE_PW, tls=True)
        check("account: removed, its cached login is refused at the next request (401)",
              st == 401 and "no longer exists" in d.logtext(), (st, d.logtext()[-400:]))
    finally:
        if GECOS in sh("getent", "passwd", GONE).stdout:
            sh("userdel", GONE)
        set_password(USER, USER_PW)
        d.stop()
    # the documented time: auth-cache-seconds (default 10)
    d = Daemon("pwchange")
    try:
        st, _, _, _ = post(d, USER, USER_PW, tls=True)
        set_password(USER, USER_PW + "-changed")
        t0 = time.time()
        st = 200
        while st == 200 and time.time() - t0 < 30:
            st, _, _, _ = post(d, USER, USER_PW, tls=True)
            if st == 200:
                time.sleep(0.5)
        dt = time.time() - t0
        check("a changed password: the old one refused %.1f s later (within "
              "auth-cache-seconds, 10 s by default)" % dt, st == 401 and dt <= 11.5, (st, dt))
    finally:
        set_password(USER, USER_PW)
        d.stop()


def lockout():
    d = Daemon("lockout", {"user-lockout-failures": "3", "user-lockout-window": "60",
                           "user-lockout-seconds": "6"})
    try:
        for i in range(3):
            st, _, _, _ = post(d, VICTIM, "wrong-%d" % i, src="127.0.4.%d" % (i + 1))
        t_lock = time.time()
        st, _, _, dt = post(d, VICTIM, VICTIM_PW, src="127.0.4.10")
        check("lockout: after 3 failures the right password is refused too (401, %.2f s)" % dt,
              st == 401, st)
        post(d, VICTIM, VICTIM_PW, src="127.0.4.11")
        log = d.logtext()
        n_pam = len(re.findall(r"authentication failed for user '%s'" % VICTIM, log))
        n_lock = log.count("user '%s' locked out for 6 s after 3 failed logins" % VICTIM)
        check("lockout: logged once (%d), PAM asked only 3 times (%d)" % (n_lock, n_pam),
              n_lock == 1 and n_pam == 3, log[-1000:])
        st, _, _, _ = post(d, USER, USER_PW, src="127.0.4.12")
        check("lockout: other users are not affected", st == 200, st)
        time.sleep(max(0.0, 6.2 - (time.time() - t_lock)))
        st, _, _, _ = post(d, VICTIM, VICTIM_PW, src="127.0.4.13")
        check("lockout: over after user-lockout-seconds (6): the right password works", st == 200,
              st)
    finally:
        d.stop()


def guessing(d, label, seconds, threads, source, user_of, legit):
    """`threads` connections guessing for `seconds` while the legitimate
    logins of `legit` ((user, password, source) each) are timed every
    1.5 s.  Returns (PAM-checked guesses per second, answers, legit times)."""
    stop_at = time.monotonic() + seconds
    lock = threading.Lock()
    answers = {}
    n = [0]

    def attacker():
        c = None
        while time.monotonic() < stop_at:
            with lock:
                n[0] += 1
                k = n[0]
            try:
                if c is None or source(k) != source(k - 1):
                    if c is not None:
                        c.close()
                    c = connect(d, False, source(k), 30)
                st, _, _, _ = post(d, user_of(k), "guess-%d" % k, conn=c)
            except (OSError, http.client.HTTPException):
                st = "closed"
                if c is not None:
                    c.close()
                c = None
                time.sleep(0.02)
            with lock:
                answers[st] = answers.get(st, 0) + 1
        if c is not None:
            c.close()

    pat = re.compile(r"authentication failed for user '[^']*' from 127\.[23]\.")
    before = len(pat.findall(d.logtext()))
    ts = [threading.Thread(target=attacker) for _ in range(threads)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    times = []
    time.sleep(1.0)
    while time.monotonic() < stop_at - 1.0:
        for user, pw, src in legit:
            try:
                st, _, _, dt = post(d, user, pw, src=src, timeout=30)
            except (OSError, http.client.HTTPException) as e:
                st, dt = repr(e), 99
            times.append((user, st, dt))
        time.sleep(1.5)
    for t in ts:
        t.join()
    elapsed = time.monotonic() - t0
    guesses = len(pat.findall(d.logtext())) - before
    print("     %s: %d PAM-checked guesses in %.1f s (%.2f/s); answers %s; legitimate logins "
          "%s" % (label, guesses, elapsed, guesses / elapsed, answers,
                  " ".join("%s:%s/%.2fs" % (u[-4:], s, t) for u, s, t in times)))
    return guesses / elapsed, answers, times


def budget():
    # auth-cache-seconds 0: every legitimate request asks PAM too
    d = Daemon("budget", {"auth-cache-seconds": "0"})
    try:
        st, _, _, _ = post(d, USER, USER_PW)   # a user who logged in before
        rate, answers, times = guessing(
            d, "64 connections from 127.2.0.1 (one user, and a user name per request)", 12, 64,
            lambda k: "127.2.0.1", lambda k: VICTIM if k % 2 else "guess%05d" % k,
            [(USER, USER_PW, "127.0.0.1"), (NEWBIE, NEWBIE_PW, "127.0.0.3")])
        worst = max(t for _, _, t in times) if times else 99
        check("64 connections guessing from one address: %.2f PAM-checked guesses/s "
              "(6.8/s before; the first burst included)" % rate, rate < 3, answers)
        check("... a legitimate login meanwhile (a known user and a first login, "
              "PAM each time): all 200, the slowest %.2f s" % worst,
              times and all(s == 200 for _, s, _ in times) and worst < 1.5, times)
        check("smbcimd still running", d.proc.poll() is None, d.logtext()[-800:])
    finally:
        d.stop()
    d = Daemon("spray", {"auth-cache-seconds": "0"})
    try:
        post(d, USER, USER_PW)
        rate, answers, times = guessing(
            d, "64 connections over 5000 addresses, a new user name per guess", 12, 64,
            lambda k: "127.3.%d.%d" % (k % 5000 // 250, 1 + k % 250),
            lambda k: "spray%05d" % k, [(USER, USER_PW, "127.0.0.1")])
        worst = max(t for _, _, t in times) if times else 99
        # auth-rate 5/s and auth-burst 20: about 5 + 20/12 per second
        check("password spraying from 5000 addresses: %.2f PAM-checked guesses/s (the "
              "budget: auth-rate 5/s, burst 20)" % rate, rate < 8.5, answers)
        check("... a known user logs in meanwhile: all 200, the slowest %.2f s" % worst,
              times and all(s == 200 for _, s, _ in times) and worst < 1.5, times)
    finally:
        d.stop()


def failure_timing():
    d = Daemon("timing", {"user-lockout-failures": "0"})
    try:
        ex, nx = [], []
        for i in range(7):
            for user, out, k in ((VICTIM, ex, 0), ("smbcim_no_such_user", nx, 1)):
                st, _, _, dt = post(d, user, "bad-password", src="127.0.5.%d" % (2 * i + k + 1))
                out.append(dt)
        me, mn = statistics.median(ex), statistics.median(nx)
        check("a first failure takes as long for an existing user (median %.3f s) as for an "
              "unknown one (median %.3f s): within 30 ms" % (me, mn),
              abs(me - mn) < 0.03 and min(ex + nx) >= 0.74, (ex, nx))
    finally:
        d.stop()


def mkcert():
    p = sh("sh", MKCERT, "--help")
    check("smbcimd-mkcert --help: usage, exit 0", p.returncode == 0 and
          p.stdout.startswith("usage: smbcimd-mkcert") and "--if-missing" in p.stdout,
          (p.returncode, p.stdout[:200]))
    p = sh("sh", MKCERT, "--frobnicate", "x")
    check("smbcimd-mkcert with an unknown option: the usage on stderr, exit 2",
          p.returncode == 2 and "unknown option '--frobnicate'" in p.stderr and
          "usage: smbcimd-mkcert" in p.stderr, (p.returncode, p.stderr))
    p = sh("sh", MKCERT)
    check("smbcimd-mkcert without a directory: exit 2", p.returncode == 2 and
          "the directory is missing" in p.stderr, (p.returncode, p.stderr))
    out = os.path.join(TMP, "mk")
    p = sh("sh", MKCERT, out)
    text = sh("openssl", "x509", "-in", os.path.join(out, "cert.pem"), "-noout", "-text").stdout
    san = re.search(r"Subject Alternative Name:\s*\n\s*(.*)", text)
    san = san.group(1) if san else ""
    host = sh("hostname").stdout.strip()
    fqdn = sh("hostname", "-f").stdout.strip()
    ips = sh("hostname", "-I").stdout.split()

    def ip_in(ip):
        try:
            if ":" in ip:
                import ipaddress
                full = ipaddress.ip_address(ip).exploded.upper().split(":")
                return "IP Address:" + ":".join(x.lstrip("0") or "0" for x in full) in san
            return "IP Address:%s" % ip in san
        except ValueError:
            return False
    want = ["DNS:localhost", "DNS:" + host, "DNS:" + fqdn]
    check("smbcimd-mkcert: subjectAltName %s" % san,
          p.returncode == 0 and all(w in san for w in want) and ip_in("127.0.0.1") and
          ip_in("::1") and all(ip_in(i) for i in ips if "%" not in i), (p.stderr, san))
    import grp
    kst = os.stat(os.path.join(out, "key.pem"))
    check("smbcimd-mkcert: key mode 640 group smbcim (the worker's), certificate 644",
          oct(kst.st_mode & 0o777) == "0o640" and kst.st_uid == 0 and
          grp.getgrgid(kst.st_gid).gr_name == "smbcim" and
          oct(os.stat(os.path.join(out, "cert.pem")).st_mode & 0o777) == "0o644",
          (oct(kst.st_mode), kst.st_gid))
    with open(os.path.join(TMP, "afile"), "w"):
        pass
    p = sh("sh", MKCERT, os.path.join(TMP, "afile", "sub"))
    check("smbcimd-mkcert: an error is shown (a directory that cannot be made), exit 1",
          p.returncode == 1 and "cannot create the directory" in p.stderr, (p.returncode, p.stderr))
    p = sh("sh", MKCERT, "--days", "0", os.path.join(TMP, "mk0"))
    check("smbcimd-mkcert: openssl's own error is shown", p.returncode == 1 and
          "openssl could not make the certificate" in p.stderr and "days" in p.stderr,
          (p.returncode, p.stderr))
    p = sh(SMBCIMD, "--check-config", "--config", os.devnull, "--snapshot", FS01,
           "--pam-service", SERVICE, "--admin-group", GROUP, "--http", "127.0.0.1:%d" % free_port(),
           "--https", "127.0.0.1:%d" % free_port(), "--cert", os.path.join(out, "cert.pem"),
           "--key", os.path.join(out, "key.pem"))
    check("smbcimd takes its certificate (--check-config)", p.returncode == 0, p.stderr)


def main():
    global TMP
    if os.geteuid() != 0:
        print("run_operator_e2e: must run as root (users, groups, PAM)")
        print("0 passed, 1 failed")
        return 1
    for tool in ("openssl", "gpasswd", "useradd", "chpasswd"):
        if not shutil.which(tool):
            check("%s installed" % tool, False)
            print("%d passed, %d failed" % (tally.passed, tally.failed))
            return 1
    TMP = tempfile.mkdtemp(prefix="smbcim-op-e2e.")
    os.chmod(TMP, 0o755)
    accounts = TempAccounts(GECOS)
    try:
        for name in ("a", "b"):
            os.makedirs(os.path.join(TMP, name))
            p = self_signed_cert(os.path.join(TMP, name), "localhost-%s" % name)
            check("setup: certificate %s" % name, p.returncode == 0, p.stderr)
        accounts.pam_service(SERVICE)
        accounts.group(GROUP)
        accounts.user(ADMIN, ADMIN_PW, [GROUP])
        for u, pw in ((USER, USER_PW), (VICTIM, VICTIM_PW), (NEWBIE, NEWBIE_PW)):
            accounts.user(u, pw)
        check("setup: group %s, users %s" % (GROUP, ", ".join([ADMIN, USER, VICTIM, NEWBIE])),
              True)
        for step in (startup_checks, check_config, pid_file, reload_and_certificates,
                     login_cache, lockout, budget, failure_timing, mkcert):
            try:
                step()
            except Exception as e:  # noqa: BLE001
                check("%s: unexpected error" % step.__name__, False,
                      "%s: %s" % (type(e).__name__, e))
    finally:
        if GECOS in sh("getent", "passwd", GONE).stdout:
            sh("userdel", GONE)
        accounts.remove()
        shutil.rmtree(TMP, ignore_errors=True)
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
