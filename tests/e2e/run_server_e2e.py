#!/usr/bin/python3
"""End-to-end test of smbcimd with the real WBEM client wbemcli (and raw
HTTP for what wbemcli cannot send).

    /usr/bin/python3 tests/e2e/run_server_e2e.py     (as root; run make first)

Set-up: two Unix users the test creates (smbcim_wadmin in the group
smbcim-admins, smbcim_wuser outside it) with passwords, the PAM service file
/etc/pam.d/smbcimd when missing, a self-signed certificate, and smbcimd on
127.0.0.1 (free ports) serving tests/fixtures/fs01.json, later the live
throwaway smbd of demo/lib.sh.  Everything created is removed at the end.

Checks: every wbemcli verb (ecn ec gc ein ei gi ai ain ri rin, with -ac
-arc -ar -arr) over HTTP and HTTPS against the smbcim CLI's answers for the
same state; no credentials, a wrong password (401, logged, slowed down), a
non-admin user (Win32_Share yes, the session classes CIM_ERR_ACCESS_DENIED),
plain HTTP refused unless allowed, malformed XML, an entity-expansion attack,
an oversized body, a slow client, an unknown namespace and class, header
mismatch, ExecQuery, the pulled enumerations, SIGTERM.
Prints "ok"/"FAIL" lines and ends with "N passed, N failed".
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

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import free_port  # noqa: E402
BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))
SMBCIMD = os.path.join(BUILD, "smbcimd")
SMBCIM = os.path.join(BUILD, "smbcim")
FS01 = os.path.join(ROOT, "tests", "fixtures", "fs01.json")
ADMIN, ADMIN_PW = "smbcim_wadmin", "Adm1n-pass-e2e"
USER, USER_PW = "smbcim_wuser", "Us3r-pass-e2e"
GROUP = "smbcim-admins"
GECOS = "smbcim server e2e temporary user"

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        d = str(detail)
        print("FAIL %s -- %s" % (name, d[:800]))
    sys.stdout.flush()
    return cond




def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


class Daemon:
    def __init__(self, tmp, extra, name):
        self.http = free_port()
        self.https = free_port()
        self.log = os.path.join(tmp, "smbcimd-%s.log" % name)
        argv = [SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"),
                "--http", "127.0.0.1:%d" % self.http, "--https", "127.0.0.1:%d" % self.https,
                "--cert", os.path.join(tmp, "cert.pem"), "--key", os.path.join(tmp, "key.pem"),
                "--request-seconds", "3", "--timeout", "5"] + extra
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=self.logf)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.https), 0.2).close()
                socket.create_connection(("127.0.0.1", self.http), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
                if self.proc.poll() is not None:
                    break

    def logtext(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        self.logf.close()
        return self.proc.returncode


def wbemcli(verb, url, *opts):
    p = sh("wbemcli", verb, *(list(opts) + [url]), timeout=60)
    return p.returncode, p.stdout, p.stderr


def url(d, tls, user, pw, path):
    scheme, port = ("https", d.https) if tls else ("http", d.http)
    cred = "%s:%s@" % (user, pw) if user else ""
    return "%s://%s127.0.0.1:%d/%s" % (scheme, cred, port, path)


def raw(d, body, tls=True, user=ADMIN, pw=ADMIN_PW, method="EnumerateInstances",
        obj="root%2Fcimv2", headers=None, timeout=30):
    """One POST /cimom; returns (status, headers dict, body text)."""
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", d.https, context=ctx, timeout=timeout)
    else:
        c = http.client.HTTPConnection("127.0.0.1", d.http, timeout=timeout)
    h = {"Content-Type": 'application/xml; charset="utf-8"', "CIMOperation": "MethodCall",
         "CIMMethod": method, "CIMObject": obj}
    if user is not None:
        h["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, pw)).encode()).decode()
    h.update(headers or {})
    try:
        c.request("POST", "/cimom", body=body.encode() if isinstance(body, str) else body,
                  headers=h)
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
    finally:
        c.close()


def imethod(name, params, ns=("root", "cimv2")):
    nsx = "".join('<NAMESPACE NAME="%s"/>' % n for n in ns)
    return ('<?xml version="1.0" encoding="utf-8" ?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.0">'
            '<MESSAGE ID="77" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="%s">'
            '<LOCALNAMESPACEPATH>%s</LOCALNAMESPACEPATH>%s</IMETHODCALL></SIMPLEREQ></MESSAGE>'
            '</CIM>' % (name, nsx, params))


def p_value(name, v):
    return '<IPARAMVALUE NAME="%s"><VALUE>%s</VALUE></IPARAMVALUE>' % (name, v)


def p_class(name, c):
    return '<IPARAMVALUE NAME="%s"><CLASSNAME NAME="%s"/></IPARAMVALUE>' % (name, c)


def error_code(text):
    m = re.search(r'<ERROR CODE="(\d+)"', text)
    return int(m.group(1)) if m else None


def cli(*args):
    p = sh(SMBCIM, "--snapshot", FS01, "--format", "json", *args, timeout=60)
    return json.loads(p.stdout) if p.returncode == 0 else None


def path_part(line):
    """The object path of a wbemcli output line (ai/ri/ei lines go on with
    the properties after the path's last closing quote and a space)."""
    i = line.find('" ')
    return line[:i + 1] if i >= 0 else line.strip()


def sig(path):
    """A comparable signature of an object path, in wbemcli's or in WMI's
    spelling: the classes named, and the sorted plain key values."""
    p = path
    for _ in range(4):   # WMI nests escaped paths inside reference keys
        p = p.replace('\\"', '"').replace("\\\\", "\\")
    classes = tuple(re.findall(r"(?:Win32|CIM)_[A-Za-z]+", p))
    values = tuple(sorted(re.findall(r'(\w+)="([^"\\]*)"', p)))
    return (classes, values)


def wbem_sigs(out):
    return sorted(sig(path_part(l)) for l in out.splitlines() if l.strip())


def cli_sigs(rows):
    return sorted(sig(r["__RELPATH"]) for r in rows)


def verbs(d, tls, label):
    A = lambda path: url(d, tls, ADMIN, ADMIN_PW, path)  # noqa: E731
    rc, out, err = wbemcli("ecn", A("root/cimv2"), *(["-noverify"] if tls else []))
    names = sorted(l.rsplit(":", 1)[-1] for l in out.split())
    check("%s: ecn lists every class" % label, rc == 0 and set(names) >= {
        "Win32_Share", "Win32_ConnectionShare", "Win32_ServerConnection", "Win32_ServerSession",
        "Win32_SessionConnection", "CIM_Dependency"}, (rc, out, err))
    nv = ["-noverify"] if tls else []
    rc, out, err = wbemcli("ec", A("root/cimv2:CIM_Dependency"), *nv)
    check("%s: ec CIM_Dependency -> its subclasses" % label, rc == 0 and
          "Win32_ConnectionShare" in out and "Win32_SessionConnection" in out, (rc, out, err))
    rc, out, err = wbemcli("gc", A("root/cimv2:Win32_ConnectionShare"), *nv)
    check("%s: gc Win32_ConnectionShare" % label, rc == 0 and "Antecedent=" in out and
          "Dependent=" in out, (rc, out, err))
    for cls in ("Win32_Share", "Win32_ServerConnection", "Win32_ServerSession",
                "Win32_ConnectionShare", "Win32_SessionConnection"):
        rc, out, err = wbemcli("ein", A("root/cimv2:" + cls), *nv)
        got = wbem_sigs(out)
        want = cli_sigs(cli("enum", cls))
        check("%s: ein %s = smbcim enum (%d)" % (label, cls, len(want)), rc == 0 and got == want,
              (rc, err, got[:3], want[:3]))
    rc, out, err = wbemcli("ei", A("root/cimv2:Win32_ServerConnection"), "-nl", *nv)
    rows = cli("query", "SELECT * FROM Win32_ServerConnection")
    files = sorted(int(x) for x in re.findall(r"^-NumberOfFiles=(\d+)", out, re.M))
    want_files = sorted(r["NumberOfFiles"] for r in rows if r["NumberOfFiles"] is not None)
    check("%s: ei Win32_ServerConnection: NumberOfFiles as smbcim" % label,
          rc == 0 and files == want_files, (rc, err, files, want_files))
    rc, out, err = wbemcli("ei", A("root/cimv2:Win32_Share"), *(nv + []))
    check("%s: ei Win32_Share: a non-ASCII name comes through" % label,
          rc == 0 and 'Name="Données"' in out, (rc, err))
    rc, out, err = wbemcli("ein", A("root/cimv2:Win32_Share"), "-e100", "-cte", *nv)
    check("%s: Expect: 100-continue and TE: trailers (wbemcli -e100 -cte)" % label,
          rc == 0 and out.count("Win32_Share.Name=") == 10, (rc, err))
    rc, out, err = wbemcli("gi", A('root/cimv2:Win32_Share.Name="Projects"'), *nv)
    check("%s: gi Win32_Share" % label, rc == 0 and 'Path="' in out and "Type=0" in out,
          (rc, out, err))
    assoc = ('root/cimv2:Win32_ConnectionShare.Antecedent=root/cimv2:Win32_Share.Name="Projects",'
             'Dependent=root/cimv2:Win32_ServerConnection.ComputerName="10.0.0.5",'
             'ShareName="Projects",UserName="alice"')
    rc, out, err = wbemcli("gi", A(assoc), *nv)
    check("%s: gi an association by its reference keys" % label,
          rc == 0 and 'Win32_Share.Name="Projects"' in out, (rc, out, err))
    share = 'root/cimv2:Win32_Share.Name="Projects"'
    for opts, wql in (([], 'ASSOCIATORS OF {Win32_Share.Name="Projects"}'),
                      (["-ac", "Win32_ConnectionShare"],
                       'ASSOCIATORS OF {Win32_Share.Name="Projects"} WHERE AssocClass=Win32_ConnectionShare'),
                      (["-arc", "Win32_ServerConnection", "-ar", "Antecedent", "-arr", "Dependent"],
                       'ASSOCIATORS OF {Win32_Share.Name="Projects"} WHERE ResultClass=Win32_ServerConnection Role=Antecedent ResultRole=Dependent'),
                      (["-ar", "Dependent"],
                       'ASSOCIATORS OF {Win32_Share.Name="Projects"} WHERE Role=Dependent')):
        want = cli_sigs(cli("query", wql))
        for verb in ("ai", "ain"):
            rc, out, err = wbemcli(verb, A(share), *(opts + nv))
            got = wbem_sigs(out)
            check("%s: %s %s (%d)" % (label, verb, " ".join(opts) or "(no filter)", len(want)),
                  rc == 0 and got == want, (rc, err, got, want))
    conn = ('root/cimv2:Win32_ServerConnection.ComputerName="10.0.0.5",ShareName="Projects",'
            'UserName="alice"')
    for opts, wql in (([], 'REFERENCES OF {%s}'),
                      (["-arc", "Win32_SessionConnection"],
                       'REFERENCES OF {%s} WHERE ResultClass=Win32_SessionConnection'),
                      (["-ar", "Dependent"], 'REFERENCES OF {%s} WHERE Role=Dependent')):
        want = cli_sigs(cli("query", wql % conn.split(":", 1)[1]))
        for verb in ("ri", "rin"):
            rc, out, err = wbemcli(verb, A(conn), *(opts + nv))
            got = wbem_sigs(out)
            check("%s: %s %s (%d)" % (label, verb, " ".join(opts) or "(no filter)", len(want)),
                  rc == 0 and got == want, (rc, err, got, want))


def security(d, tls, label):
    nv = ["-noverify"] if tls else []
    rc, out, err = wbemcli("ein", url(d, tls, None, None, "root/cimv2:Win32_Share"), *nv)
    check("%s: no credentials -> refused" % label, rc != 0 and "required" in err, (rc, out, err))
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")),
                      tls=tls, user=None, method="EnumerateInstanceNames")
    check("%s: no credentials -> 401 with WWW-Authenticate Basic, no data" % label,
          st == 401 and h.get("WWW-Authenticate", "").startswith("Basic")
          and "Win32_Share" not in body, (st, h))
    t0 = time.time()
    rc, out, err = wbemcli("ein", url(d, tls, USER, "wrong-password", "root/cimv2:Win32_Share"),
                           *nv)
    dt = time.time() - t0
    check("%s: wrong password -> refused after a delay (%.2f s)" % (label, dt),
          rc != 0 and "Invalid username/password" in err and dt >= 0.45, (rc, err, dt))
    check("%s: the failed login is logged with user and peer" % label,
          re.search(r"authentication failed for user '%s' from 127\.0\.0\.1" % USER, d.logtext())
          is not None, d.logtext()[-500:])
    # Log forging: a user name, a %-encoded header and an XML attribute
    # carrying a newline and a fake priority prefix must stay on one line.
    forged = "<6>smbcimd: user 'root' logged in from 10.9.9.9 (admin)"
    raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")), tls=tls,
        user="nobody\n" + forged, pw="x", method="EnumerateInstanceNames")
    raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")), tls=tls,
        user=USER, pw=USER_PW, method="EnumerateInstanceNames%0A" + forged.replace(" ", "%20"))
    raw(d, imethod("EnumerateInstanceNames%#10;" + forged.replace("'", "&apos;"),
                   p_class("ClassName", "Win32_Share")).replace("%#10;", "&#10;"),
        tls=tls, user=USER, pw=USER_PW, method="EnumerateInstanceNames")
    lines = d.logtext().splitlines()
    check("%s: no log line forged by a user name, a header or an attribute" % label,
          not any(l.startswith("<6>smbcimd: user 'root' logged in from 10.9.9.9") for l in lines)
          and any("\\x0a<6>smbcimd: user 'root'" in l for l in lines),
          [l for l in lines if "10.9.9.9" in l][-6:])
    rc, out, err = wbemcli("ein", url(d, tls, USER, USER_PW, "root/cimv2:Win32_Share"), *nv)
    check("%s: non-admin reads Win32_Share" % label, rc == 0 and "Win32_Share.Name=" in out,
          (rc, err))
    for cls in ("Win32_ServerConnection", "Win32_ServerSession", "Win32_ConnectionShare",
                "Win32_SessionConnection"):
        rc, out, err = wbemcli("ein", url(d, tls, USER, USER_PW, "root/cimv2:" + cls), *nv)
        check("%s: non-admin, %s -> CIM_ERR_ACCESS_DENIED" % (label, cls),
              rc != 0 and "CIM_ERR_ACCESS_DENIED" in err and not out.strip(), (rc, out, err))
    rc, out, err = wbemcli("ai", url(d, tls, USER, USER_PW, 'root/cimv2:Win32_Share.Name="Projects"'),
                           *nv)
    check("%s: non-admin, associators of a share -> CIM_ERR_ACCESS_DENIED" % label,
          rc != 0 and "CIM_ERR_ACCESS_DENIED" in err, (rc, out, err))
    rc, out, err = wbemcli("ein", url(d, tls, USER, USER_PW, "root/cimv2:CIM_LogicalElement"),
                           *nv)
    check("%s: non-admin, a superclass -> only the shares" % label, rc == 0 and
          "Win32_Share" in out and "Win32_Server" not in out, (rc, out, err))
    rc, out, err = wbemcli("gc", url(d, tls, USER, USER_PW, "root/cimv2:Win32_ServerSession"),
                           *nv)
    check("%s: non-admin reads class declarations" % label, rc == 0, (rc, err))


def protocol(d):
    label = "protocol"
    st, h, body = raw(d, "<CIM><MESSAGE", method="EnumerateInstances")
    check("malformed XML -> 400 request-not-well-formed", st == 400 and
          h.get("CIMError") == "request-not-well-formed", (st, h, body))
    bomb = ('<?xml version="1.0"?><!DOCTYPE CIM [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">'
            + "".join('<!ENTITY %s "%s">' % (chr(98 + i), ("&%s;" % chr(97 + i)) * 10)
                      for i in range(9))
            + ']><CIM CIMVERSION="2.0" DTDVERSION="2.0"><MESSAGE ID="1" PROTOCOLVERSION="1.0">'
            '<SIMPLEREQ><IMETHODCALL NAME="EnumerateInstances"><LOCALNAMESPACEPATH>'
            '<NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/></LOCALNAMESPACEPATH>'
            '<IPARAMVALUE NAME="ClassName"><CLASSNAME NAME="&j;"/></IPARAMVALUE></IMETHODCALL>'
            '</SIMPLEREQ></MESSAGE></CIM>')
    t0 = time.time()
    st, h, body = raw(d, bomb)
    dt = time.time() - t0
    check("entity-expansion attack -> 400 at once (%.3f s)" % dt, st == 400 and dt < 2,
          (st, h, body[:200]))
    auth = base64.b64encode(("%s:%s" % (ADMIN, ADMIN_PW)).encode()).decode()
    head = ("POST /cimom HTTP/1.1\r\nHost: x\r\nCIMOperation: MethodCall\r\n"
            "CIMMethod: EnumerateInstanceNames\r\nCIMObject: root/cimv2\r\n"
            "Authorization: Basic %s\r\n" % auth)

    def exchange(headers, chunks, delay=0.0, limit=8.0):
        s = socket.create_connection(("127.0.0.1", d.http), 10)
        resp = b""
        t0 = time.time()
        try:
            s.sendall(headers.encode())
            for ch in chunks:
                s.sendall(ch)
                if delay:
                    time.sleep(delay)
                if time.time() - t0 > limit:
                    break
        except OSError:
            pass      # the server may close early: read what it said
        try:
            s.settimeout(10)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                resp += b
                if b"\r\n\r\n" in resp:
                    break
        except OSError:
            pass
        s.close()
        return resp

    resp = exchange(head + "Content-Length: %d\r\n\r\n" % (2 * 1024 * 1024), [])
    check("oversized body (Content-Length 2 MiB) -> 413 before the body is read",
          resp.startswith(b"HTTP/1.1 413"), resp[:100])
    chunk = b"x" * 65536
    body = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 40 + [b"0\r\n\r\n"]
    resp = exchange(head + "Transfer-Encoding: chunked\r\n\r\n", body)
    check("oversized chunked body (2.5 MiB, no length) -> 413", resp.startswith(b"HTTP/1.1 413"),
          resp[:100])
    small = imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")).encode()
    t0 = time.time()
    resp = exchange(head + "Content-Length: %d\r\n\r\n" % len(small),
                    [small[i:i + 1] for i in range(len(small))], delay=0.05)
    dt = time.time() - t0
    check("slow client (a byte every 50 ms): cut off after request-seconds (3 s; took %.1f s)"
          % dt, not resp.startswith(b"HTTP/1.1 200") and 2.5 < dt < 9, resp[:100])
    check("... and logged", "body not received within 3 s" in d.logtext(), d.logtext()[-300:])
    before = time.time()
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")),
                      method="EnumerateInstanceNames")
    check("the server still answers at once after those", st == 200 and
          time.time() - before < 2, st)
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share"),
                                 ns=("root", "other")), method="EnumerateInstanceNames",
                      obj="root%2Fother")
    check("unknown namespace -> CIM_ERR_INVALID_NAMESPACE (3)", st == 200 and error_code(body) == 3,
          (st, body[:300]))
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Nope")),
                      method="EnumerateInstanceNames")
    check("unknown class -> CIM_ERR_INVALID_CLASS (5)", st == 200 and error_code(body) == 5,
          (st, body[:300]))
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")),
                      method="GetInstance")
    check("CIMMethod disagreeing with the body -> 400 header-mismatch",
          st == 400 and h.get("CIMError") == "header-mismatch", (st, h))
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")),
                      method="EnumerateInstanceNames", headers={"CIMOperation": "Other"})
    check("CIMOperation other than MethodCall -> 400 unsupported-operation",
          st == 400 and h.get("CIMError") == "unsupported-operation", (st, h))
    st, h, body = raw(d, imethod("CreateInstance", ""), method="CreateInstance")
    check("CreateInstance -> CIM_ERR_NOT_SUPPORTED (7)", st == 200 and error_code(body) == 7,
          (st, body[:300]))
    q = imethod("ExecQuery", p_value("QueryLanguage", "WQL") +
                p_value("Query", "SELECT Name FROM Win32_Share WHERE Type = 0"))
    st, h, body = raw(d, q, method="ExecQuery")
    want = sorted(r["Name"] for r in cli("query", "SELECT Name FROM Win32_Share WHERE Type = 0"))
    got = sorted(set(re.findall(r'<PROPERTY NAME="Name" TYPE="string"[^>]*><VALUE>([^<]*)</VALUE>',
                                body)))
    check("ExecQuery WQL SELECT = smbcim's answer", st == 200 and got == want, (got, want))
    q = imethod("ExecQuery", p_value("QueryLanguage", "CQL") + p_value("Query", "SELECT * FROM X"))
    st, h, body = raw(d, q, method="ExecQuery")
    check("ExecQuery in another language -> CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED (14)",
          error_code(body) == 14, body[:300])
    q = imethod("ExecQuery", p_value("QueryLanguage", "WQL") + p_value("Query", "SELECT * FORM X"))
    st, h, body = raw(d, q, method="ExecQuery")
    check("ExecQuery syntax error -> CIM_ERR_INVALID_QUERY (15) with the column",
          error_code(body) == 15 and "column" in body, body[:300])
    # Pulled enumeration: 2 at a time until the end.
    op = imethod("OpenEnumerateInstances", p_class("ClassName", "Win32_Share") +
                 p_value("MaxObjectCount", "2"))
    st, h, body = raw(d, op, method="OpenEnumerateInstances")
    ctx = re.search(r'NAME="EnumerationContext" PARAMTYPE="string"><VALUE>([^<]+)<', body)
    n = body.count("<VALUE.INSTANCEWITHPATH>")
    total = len(cli("enum", "Win32_Share"))
    pulls = 0
    while ctx and pulls < 50:
        pulls += 1
        pq = imethod("PullInstancesWithPath", p_value("EnumerationContext", ctx.group(1)) +
                     p_value("MaxObjectCount", "2"))
        st, h, body = raw(d, pq, method="PullInstancesWithPath")
        n += body.count("<VALUE.INSTANCEWITHPATH>")
        if '<PARAMVALUE NAME="EndOfSequence" PARAMTYPE="boolean"><VALUE>TRUE' in body:
            break
        ctx = re.search(r'NAME="EnumerationContext" PARAMTYPE="string"><VALUE>([^<]+)<', body)
    check("OpenEnumerateInstances + PullInstancesWithPath: all %d shares, 2 at a time" % total,
          n == total and pulls >= 1, (n, total, pulls, body[-300:]))
    st, h, body = raw(d, op, method="OpenEnumerateInstances")
    ctx = re.search(r'NAME="EnumerationContext" PARAMTYPE="string"><VALUE>([^<]+)<', body).group(1)
    st, h, body = raw(d, imethod("PullInstancesWithPath", p_value("EnumerationContext", ctx) +
                                 p_value("MaxObjectCount", "2")), user=USER, pw=USER_PW,
                      method="PullInstancesWithPath")
    check("another user's enumeration context -> CIM_ERR_INVALID_ENUMERATION_CONTEXT (21)",
          error_code(body) == 21, body[:300])
    st, h, body = raw(d, imethod("PullInstancePaths", p_value("EnumerationContext", ctx) +
                                 p_value("MaxObjectCount", "2")), method="PullInstancePaths")
    check("a pull of the wrong kind -> 21", error_code(body) == 21, body[:300])
    st, h, body = raw(d, imethod("CloseEnumeration", p_value("EnumerationContext", ctx)),
                      method="CloseEnumeration")
    check("CloseEnumeration", st == 200 and "<ERROR" not in body, body[:300])
    st, h, body = raw(d, imethod("CloseEnumeration", p_value("EnumerationContext", ctx)),
                      method="CloseEnumeration")
    check("a closed context -> 21", error_code(body) == 21, body[:300])
    oa = imethod("OpenAssociatorInstancePaths",
                 '<IPARAMVALUE NAME="InstanceName"><INSTANCENAME CLASSNAME="Win32_Share">'
                 '<KEYBINDING NAME="Name"><KEYVALUE VALUETYPE="string">Projects</KEYVALUE>'
                 '</KEYBINDING></INSTANCENAME></IPARAMVALUE>' + p_value("MaxObjectCount", "100"))
    st, h, body = raw(d, oa, method="OpenAssociatorInstancePaths")
    want = len(cli("query", 'ASSOCIATORS OF {Win32_Share.Name="Projects"}'))
    check("OpenAssociatorInstancePaths: every associator at once, EndOfSequence",
          body.count("<INSTANCEPATH>") == want and "<VALUE>TRUE</VALUE>" in body,
          (want, body[:300]))
    oq = imethod("OpenQueryInstances", p_value("FilterQueryLanguage", "WQL") +
                 p_value("FilterQuery", "SELECT * FROM Win32_ServerSession") +
                 p_value("MaxObjectCount", "100"))
    st, h, body = raw(d, oq, method="OpenQueryInstances")
    check("OpenQueryInstances", body.count("<INSTANCE CLASSNAME=\"Win32_ServerSession\"") ==
          len(cli("enum", "Win32_ServerSession")), body[:300])
    bad = imethod("OpenEnumerateInstances", p_class("ClassName", "Win32_Share") +
                  p_value("OperationTimeout", "999999"))
    st, h, body = raw(d, bad, method="OpenEnumerateInstances")
    check("an OperationTimeout over the maximum -> 22", error_code(body) == 22, body[:300])


def main():
    if os.geteuid() != 0:
        print("run_server_e2e: must run as root (users, PAM)")
        print("0 passed, 1 failed")
        return 1
    for tool in ("wbemcli", "openssl"):
        if not shutil.which(tool):
            check("%s installed" % tool, False)
            print("%d passed, %d failed" % (passed, failed))
            return 1
    tmp = tempfile.mkdtemp(prefix="smbcim-srv-e2e.")
    os.chmod(tmp, 0o755)
    created_users, created_group, created_pam = [], False, False
    daemons = []
    live = None
    try:
        open(os.path.join(tmp, "empty.conf"), "w").close()
        p = sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
               "-subj", "/CN=localhost", "-keyout", os.path.join(tmp, "key.pem"),
               "-out", os.path.join(tmp, "cert.pem"))
        check("setup: self-signed certificate", p.returncode == 0, p.stderr)
        if not os.path.exists("/etc/pam.d/smbcimd"):
            shutil.copy(os.path.join(ROOT, "dist", "pam.d", "smbcimd"), "/etc/pam.d/smbcimd")
            created_pam = True
        if sh("getent", "group", GROUP).returncode != 0:
            created_group = sh("groupadd", GROUP).returncode == 0
        for u, pw, groups in ((ADMIN, ADMIN_PW, [GROUP]), (USER, USER_PW, [])):
            if sh("getent", "passwd", u).returncode != 0:
                args = ["useradd", "-M", "-s", "/usr/sbin/nologin", "-c", GECOS]
                if groups:
                    args += ["-G", ",".join(groups)]
                sh(*(args + [u]))
                created_users.append(u)
            subprocess.run(["chpasswd"], input="%s:%s\n" % (u, pw), text=True, check=True)
        check("setup: users %s (admin) and %s" % (ADMIN, USER), True)

        d = Daemon(tmp, ["--snapshot", FS01, "--allow-plain-http"], "snapshot")
        daemons.append(d)
        check("setup: smbcimd started on 127.0.0.1:%d/%d" % (d.http, d.https),
              d.proc.poll() is None, d.logtext())
        for step, fn in (("http verbs", lambda: verbs(d, False, "http")),
                         ("https verbs", lambda: verbs(d, True, "https")),
                         ("http security", lambda: security(d, False, "http")),
                         ("https security", lambda: security(d, True, "https")),
                         ("protocol faults", lambda: protocol(d))):
            fn()
            if not check("smbcimd still running after the %s" % step, d.proc.poll() is None,
                         d.logtext()[-4000:]):
                break

        d2 = Daemon(tmp, ["--snapshot", FS01, "--auth-cache-seconds", "0"], "noplain")
        daemons.append(d2)
        st, h, body = raw(d2, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")),
                          tls=False, method="EnumerateInstanceNames")
        check("plain HTTP without allow-plain-http -> 403, credentials never checked",
              st == 403 and "authentication" not in d2.logtext(), (st, d2.logtext()[-300:]))
        rc, out, err = wbemcli("ein", url(d2, True, ADMIN, ADMIN_PW, "root/cimv2:Win32_Share"),
                               "-noverify")
        check("... and HTTPS works there", rc == 0 and "Win32_Share" in out, err)
        helper = sh("pgrep", "-P", str(d2.proc.pid), "smbcimd-auth").stdout.split()
        check("PAM runs in a helper process (smbcimd-auth), not in the server", len(helper) == 1,
              helper)
        for pid in helper:
            os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.2)
        rc, out, err = wbemcli("ein", url(d2, True, ADMIN, ADMIN_PW, "root/cimv2:Win32_Share"),
                               "-noverify")
        check("a killed PAM helper is started again for the next login", rc == 0 and
              "Win32_Share" in out and d2.proc.poll() is None, (err, d2.logtext()[-500:]))
        rc = d2.stop()
        check("SIGTERM: clean exit (status 0)", rc == 0, rc)
        daemons.remove(d2)
        bad = sh(SMBCIMD, "--foreground", "--snapshot", FS01, "--https", "127.0.0.1:1")
        check("HTTPS without a certificate: refused at start, exit 2",
              bad.returncode == 2 and "--cert" in bad.stderr, bad.stderr)
        conf = os.path.join(tmp, "bad.conf")
        with open(conf, "w") as f:
            f.write("http = 127.0.0.1:1\nnonsense = 3\n")
        bad = sh(SMBCIMD, "--foreground", "--config", conf)
        check("configuration error: file and line", bad.returncode == 2 and
              "bad.conf:2: unknown setting 'nonsense'" in bad.stderr, bad.stderr)

        # The live Samba source.
        import run_e2e as e2e
        live = e2e.Server()
        holder = e2e.Holder(live, e2e.PLAN, "srv")
        d3 = Daemon(tmp, ["--smb-conf", live.conf], "live")
        daemons.append(d3)
        rc, out, err = wbemcli("ein", url(d3, True, ADMIN, ADMIN_PW,
                                          "root/cimv2:Win32_ConnectionShare"), "-noverify")
        cl = sh(SMBCIM, "--smb-conf", live.conf, "names", "Win32_ConnectionShare")
        check("live: ein Win32_ConnectionShare = smbcim names (%d)" % len(cl.stdout.split("\n")[:-1]),
              rc == 0 and len(out.splitlines()) == len(cl.stdout.splitlines()) > 0,
              (rc, err, out[:300], cl.stdout[:300]))
        rc, out, err = wbemcli("ai", url(d3, True, ADMIN, ADMIN_PW,
                                         'root/cimv2:Win32_Share.Name="Projects"'), "-noverify")
        check("live: ai Projects -> alice's merged connection, 2 users",
              rc == 0 and 'UserName="smbcim_alice"' in out and "NumberOfUsers=2" in out,
              (rc, err, out[:300]))
        holder.stop()
    except Exception as e:  # noqa: BLE001
        check("unexpected error", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for d in daemons:
            d.stop()
        if live:
            live.stop()
        for u in created_users:
            sh("userdel", u)
        if created_group:
            sh("groupdel", GROUP)
        if created_pam:
            os.unlink("/etc/pam.d/smbcimd")
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
