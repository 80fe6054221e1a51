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
mismatch, ExecQuery, the pulled enumerations, SIGTERM; request framing
(Content-Length with Transfer-Encoding), %00 in CIM headers, TLS versions
and ciphers (openssl s_client), slow headers and TLS handshakes (the
header-seconds deadline), connections per address (503 + Retry-After, room
left for other addresses), the PAM helper's signals and a hung helper.
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
from procs import (TempAccounts, WORKER_USER, free_port, self_signed_cert,  # noqa: E402
                   send_by_hand)
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
    def __init__(self, tmp, extra, name, binary=None):
        self.http = free_port()
        self.https = free_port()
        self.log = os.path.join(tmp, "smbcimd-%s.log" % name)
        argv = [binary or SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"),
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
    the properties after the path and a space: after its last closing
    quote, or after a bare number when the last key is numeric)."""
    m = re.match(r'(.*?(?:"|=\d+)) ', line)
    return m.group(1) if m else line.strip()


def sig(path):
    """A comparable signature of an object path, in wbemcli's or in WMI's
    spelling: the classes named, and the sorted plain key values."""
    p = path
    for _ in range(4):   # WMI nests escaped paths inside reference keys
        p = p.replace('\\"', '"').replace("\\\\", "\\")
    # scanned from the left, SMBCIM_X is found before the CIM_X inside it
    classes = tuple(re.findall(r"(?:SMBCIM|MSFT|Win32|CIM)_[A-Za-z]+", p))
    # a reference key's value is a path: its own keys are what count
    p = re.sub(r'(?i)\b(?:Antecedent|Dependent)="?', "", p)
    # key names compared without case: REF values spell them as Windows'
    # provider does ("computername"), CIM-XML as the class declares them
    # string keys are quoted, numeric ones (MSFT_SmbOpenFile.FileId) bare
    values = tuple(sorted((k.lower(), q if q else n) for k, q, n in
                          re.findall(r'(\w+)=(?:"([^"\\]*)"|(\d+)(?![\w.]))', p)))
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
                "Win32_ConnectionShare", "Win32_SessionConnection", "MSFT_SmbOpenFile",
                "MSFT_SmbSession", "SMBCIM_ShareOpenFile", "SMBCIM_ConnectionOpenFile",
                "SMBCIM_SessionOpenFile"):
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
        return send_by_hand(d.http, headers, chunks, delay, limit)

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
    new = ('<IPARAMVALUE NAME="NewInstance"><INSTANCE CLASSNAME="Win32_Share">'
           '<PROPERTY NAME="Name" TYPE="string"><VALUE>New</VALUE></PROPERTY></INSTANCE>'
           '</IPARAMVALUE>')
    st, h, body = raw(d, imethod("CreateInstance", new), method="CreateInstance")
    check("CreateInstance in root/cimv2 -> CIM_ERR_NOT_SUPPORTED (7)",
          st == 200 and error_code(body) == 7,
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


# ---- connections, framing, TLS, the PAM helper (security review) -------------

def tls_client_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def trickle(port, kind, out, i, src="127.0.0.1", every=0.3, limit=8.0):
    """One slow client: kind "http" sends a request's headers a byte every
    `every` s, "https" the same after a TLS handshake, "hello" a TLS
    ClientHello record a byte at a time, "keepalive" the same as "http"
    after an authenticated request answered on that connection.  out[i] =
    seconds until the server closed the connection, from its start or
    from the first answer (None: still open after `limit`)."""
    t0 = time.time()
    out[i] = None
    try:
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        if kind == "https":
            s = tls_client_ctx().wrap_socket(s)
        if kind == "keepalive":
            body = imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")).encode()
            auth = base64.b64encode(("%s:%s" % (ADMIN, ADMIN_PW)).encode()).decode()
            s.sendall(("POST /cimom HTTP/1.1\r\nHost: x\r\nCIMOperation: MethodCall\r\n"
                       "CIMMethod: EnumerateInstanceNames\r\nCIMObject: root/cimv2\r\n"
                       "Authorization: Basic %s\r\nContent-Length: %d\r\n\r\n"
                       % (auth, len(body))).encode() + body)
            resp = b""
            while b"\r\n\r\n" not in resp:
                resp += s.recv(65536)
            head, rest = resp.split(b"\r\n\r\n", 1)
            n = int(re.search(rb"Content-Length: (\d+)", head).group(1))
            while len(rest) < n:
                rest += s.recv(65536)
            if not head.startswith(b"HTTP/1.1 200"):
                return
            t0 = time.time()
        if kind == "hello":
            data = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x01" * 500
        else:
            data = b"POST /cimom HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 2000
        for b in data:
            if time.time() - t0 > limit:
                s.close()
                return
            s.sendall(bytes([b]))
            s.settimeout(every)
            try:
                if s.recv(1000) == b"":
                    break
                break            # an answer (a 408, a TLS alert): closed too
            except socket.timeout:
                pass
    except (OSError, ssl.SSLError):
        pass
    out[i] = time.time() - t0
    try:
        s.close()
    except OSError:
        pass


def slow_headers(tmp, daemons):
    """Headers (and the TLS handshake) have a deadline: slow clients sending
    a byte at a time are closed after header-seconds, whatever their pace,
    and do not delay anyone else."""
    d = Daemon(tmp, ["--snapshot", FS01, "--allow-plain-http", "--header-seconds", "2"],
               "slowheaders")
    daemons.append(d)
    import threading
    kinds = ["http"] * 20 + ["https"] * 10 + ["hello"] * 10 + ["keepalive"] * 2
    lived = [None] * len(kinds)
    threads = [threading.Thread(target=trickle, args=(
        d.http if k in ("http", "keepalive") else d.https, k, lived, i))
        for i, k in enumerate(kinds)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.time()
    st, h, body = raw(d, imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")),
                      method="EnumerateInstanceNames", timeout=10)
    dt = time.time() - t0
    check("slow headers: an authenticated request meanwhile is answered at once (%.2f s)" % dt,
          st == 200 and dt < 1.5, (st, dt))
    for t in threads:
        t.join()
    got = [lived[i] for i in range(len(kinds)) if kinds[i] == "keepalive"]
    check("a kept-alive connection's next request trickled: closed max(timeout, "
          "header-seconds) (5 s) after the previous answer: %s" % got,
          all(x is not None and 4.7 < x < 7 for x in got), got)
    for k in ("http", "https", "hello"):
        got = [lived[i] for i in range(len(kinds)) if kinds[i] == k]
        check("slow headers (%s, %d clients, a byte every 0.3 s) closed after header-seconds "
              "(2 s): %s" % (k, len(got), " ".join(
                  "%.1f" % x if x is not None else "open" for x in
                  sorted(got, key=lambda v: 1e9 if v is None else v))),
              all(x is not None and 1.7 < x < 4 for x in got), got)
    log = d.logtext()
    check("... and logged", "request headers not complete within 2 s" in log and
          "TLS handshake and request headers not complete within 2 s" in log, log[-600:])
    check("smbcimd still running after the slow clients", d.proc.poll() is None, log[-2000:])
    d.stop()
    daemons.remove(d)


def connection_limits(tmp, daemons):
    """Per address: max-per-ip over both listeners, 503 + Retry-After beyond;
    at most half of max-connections, so that one address leaves room."""
    d = Daemon(tmp, ["--snapshot", FS01, "--allow-plain-http", "--header-seconds", "5",
                     "--max-connections", "8", "--max-per-ip", "100"], "limits")
    daemons.append(d)
    check("max-per-ip over half of max-connections: lowered to 4, and said so",
          "max-per-ip 100 is more than half of max-connections 8: using 4" in d.logtext(),
          d.logtext()[-500:])
    req = imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share"))
    held = [socket.create_connection(("127.0.0.1", d.http), 5) for _ in range(4)]
    time.sleep(0.3)
    for tls in (True, False):
        try:
            st, h, body = raw(d, req, tls=tls, method="EnumerateInstanceNames", timeout=10)
        except (OSError, ssl.SSLError, http.client.HTTPException) as e:
            st, h, body = repr(e), {}, ""
        check("%s: a 5th connection from one address (4 held on http) -> 503 with Retry-After"
              % ("https" if tls else "http"),
              st == 503 and h.get("Retry-After", "").isdigit(), (st, h, body[:200]))
    for s in held:
        s.close()
    time.sleep(0.5)
    st, h, body = raw(d, req, method="EnumerateInstanceNames")
    check("... and answered again once they are closed", st == 200, (st, body[:200]))
    # One address opening many connections (a slowloris from 127.0.0.2)
    # cannot take the listener: others still get in.
    attack = []
    for _ in range(20):
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", d.https))
            attack.append(s)
        except OSError:
            s.close()
    time.sleep(0.5)
    alive = 0
    for s in attack:
        s.settimeout(0.05)
        try:
            if s.recv(1) != b"":
                alive += 1
        except socket.timeout:
            alive += 1
        except OSError:
            pass
    t0 = time.time()
    try:
        st, h, body = raw(d, req, method="EnumerateInstanceNames", timeout=10)
    except (OSError, ssl.SSLError, http.client.HTTPException) as e:
        st, body = repr(e), ""
    dt = time.time() - t0
    check("20 connections from 127.0.0.2 (max-connections 8): it holds %d, another address "
          "is answered (%.2f s)" % (alive, dt), st == 200 and alive <= 6 and dt < 2,
          (st, alive, body[:200]))
    for s in attack:
        s.close()
    check("smbcimd still running after the connection limits", d.proc.poll() is None,
          d.logtext()[-2000:])
    d.stop()
    daemons.remove(d)


def framing(d):
    """RFC 9112 6.1/6.3: a request with both Content-Length and
    Transfer-Encoding (or repeated ones, or a coding other than chunked) is
    refused before it is read; header values %-decoded to a NUL are not
    compared by their prefix."""
    auth = base64.b64encode(("%s:%s" % (ADMIN, ADMIN_PW)).encode()).decode()
    body = imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share")).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = ("POST /cimom HTTP/1.1\r\nHost: x\r\nCIMOperation: MethodCall\r\n"
            "CIMMethod: EnumerateInstanceNames\r\nCIMObject: root/cimv2\r\n"
            "Authorization: Basic %s\r\n" % auth)
    for label, extra, payload, want in (
            ("Content-Length and Transfer-Encoding: chunked",
             "Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body), chunked, 400),
            ("Transfer-Encoding: chunked and Content-Length",
             "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", chunked, 400),
            ("two Content-Length headers",
             "Content-Length: %d\r\nContent-Length: %d\r\n" % (len(body), len(body)), body, 400),
            ("Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n",
             chunked, 501),
            ("Transfer-Encoding: chunked alone (accepted)", "Transfer-Encoding: chunked\r\n",
             chunked, 200)):
        for tls in (False, True):
            resp = send_by_hand(d.https if tls else d.http, head + extra + "\r\n", [payload],
                                tls_context=tls_client_ctx() if tls else None)
            check("%s: %s -> %d" % ("https" if tls else "http", label, want),
                  resp.startswith(b"HTTP/1.1 %d" % want), resp[:120])
    for meth, obj in (("EnumerateInstanceNames%00", "root%2Fcimv2"),
                      ("EnumerateInstanceNames%00GetInstance", "root%2Fcimv2"),
                      ("EnumerateInstanceNames", "root%2Fcimv2%00%2Fother")):
        st, h, text = raw(d, body, method=meth, obj=obj)
        check("CIMMethod/CIMObject %s / %s (%%00) -> 400 header-mismatch" % (meth, obj),
              st == 400 and h.get("CIMError") == "header-mismatch", (st, h, text[:200]))


def s_client(port, *opts):
    """(protocol, cipher) that openssl s_client negotiated, cipher "(NONE)"
    when the handshake failed."""
    p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + list(opts),
                       input="", capture_output=True, text=True, timeout=20)
    m = re.search(r"New, (\S+), Cipher is (\S+)", p.stdout)
    # the session's protocol; TLS 1.3 prints none (its ticket comes later),
    # and then "New, TLSv1.3" is it
    v = re.search(r"^\s*Protocol\s*:\s*(\S+)", p.stdout, re.M)
    return (v.group(1) if v else m.group(1) if m else "?", m.group(2) if m else "(NONE)")


def tls_versions(d, tmp):
    """TLS 1.2+ with forward secrecy only (tls-priority's default)."""
    for label, opts in (("TLS 1.0", ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"]),
                        ("TLS 1.1", ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]),
                        ("TLS 1.2 static RSA (AES256-SHA256)",
                         ["-tls1_2", "-cipher", "AES256-SHA256"]),
                        ("TLS 1.2 static RSA (AES128-GCM-SHA256 ... AES256-SHA)",
                         ["-tls1_2", "-cipher",
                          "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES128-SHA:AES256-SHA"]),
                        ("TLS 1.2 ECDHE with CBC (ECDHE-RSA-AES256-SHA)",
                         ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA"])):
        proto, cipher = s_client(d.https, *opts)
        check("TLS: %s refused" % label, cipher == "(NONE)", (proto, cipher))
    for label, opts, want in (("TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384",
                               ["-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384"], "TLSv1.2"),
                              ("TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305",
                               ["-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"], "TLSv1.2"),
                              ("TLS 1.3", ["-tls1_3"], "TLSv1.3")):
        proto, cipher = s_client(d.https, *opts)
        check("TLS: %s accepted" % label, proto == want and cipher != "(NONE)", (proto, cipher))
    bad = sh(SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"), "--snapshot",
             FS01, "--https", "127.0.0.1:1", "--cert", "c", "--key", "k",
             "--tls-priority", "NORMAL:+NONSENSE")
    check("a bad --tls-priority: refused at start, exit 2",
          bad.returncode == 2 and "tls-priority" in bad.stderr, bad.stderr)


def helper_signals(d):
    """The PAM helper starts with no signal blocked or ignored (the server
    blocks SIGTERM for sigwait), so SIGTERM ends it."""
    helper = sh("pgrep", "-P", str(d.proc.pid), "smbcimd-auth").stdout.split()
    if not check("the PAM helper is running", len(helper) == 1, helper):
        return
    with open("/proc/%s/status" % helper[0]) as f:
        st = dict(l.split(":", 1) for l in f.read().splitlines() if ":" in l)
    blk, ign = int(st["SigBlk"].strip(), 16), int(st["SigIgn"].strip(), 16)
    check("the PAM helper: no signal blocked (SigBlk %s), none ignored (SigIgn %s)"
          % (st["SigBlk"].strip(), st["SigIgn"].strip()),
          blk == 0 and ign == 0 and not blk & (1 << (signal.SIGTERM - 1)), st)
    os.kill(int(helper[0]), signal.SIGTERM)
    gone = False
    for _ in range(40):
        time.sleep(0.05)
        if not os.path.exists("/proc/%s" % helper[0]) or \
                "Z" in open("/proc/%s/stat" % helper[0]).read().split()[2]:
            gone = True
            break
    check("... and SIGTERM ends it", gone, helper)


def hung_helper(tmp, daemons):
    """A PAM helper that never answers: the login fails after auth-timeout
    (503, logged), the helper is killed and started again."""
    hdir = os.path.join(tmp, "hung")
    os.mkdir(hdir)
    binary = os.path.join(hdir, "smbcimd")
    shutil.copy(SMBCIMD, binary)
    with open(os.path.join(hdir, "smbcimd-auth"), "w") as f:
        f.write("#!/bin/sh\nexec sleep 600\n")
    os.chmod(os.path.join(hdir, "smbcimd-auth"), 0o755)
    d = Daemon(tmp, ["--snapshot", FS01, "--auth-timeout", "2"], "hung", binary=binary)
    daemons.append(d)
    req = imethod("EnumerateInstanceNames", p_class("ClassName", "Win32_Share"))
    t0 = time.time()
    try:
        st, h, body = raw(d, req, method="EnumerateInstanceNames", timeout=20)
    except (OSError, http.client.HTTPException) as e:
        st, h = repr(e), {}
    dt = time.time() - t0
    check("a PAM helper that never answers: the login fails after auth-timeout (2 s), "
          "503 (%.1f s)" % dt, st == 503 and 1.8 < dt < 5 and "Retry-After" in h, (st, h, dt))
    log = d.logtext()
    check("... logged", "did not answer within 2 s" in log, log[-600:])
    sleepers = sh("pgrep", "-P", str(d.proc.pid), "sleep").stdout.split()
    check("... and the hung helper was killed", sleepers == [], sleepers)
    t0 = time.time()
    try:
        st, h, body = raw(d, req, method="EnumerateInstanceNames", timeout=20)
    except (OSError, http.client.HTTPException) as e:
        st = repr(e)
    check("... the next login starts a new one (and fails the same way, %.1f s)"
          % (time.time() - t0), st == 503, st)
    check("smbcimd still running", d.proc.poll() is None, d.logtext()[-1000:])
    d.stop()
    daemons.remove(d)


def proc_status(pid):
    try:
        with open("/proc/%s/status" % pid) as f:
            return dict((k, v.strip()) for k, v in
                        (l.split(":", 1) for l in f.read().splitlines() if ":" in l))
    except OSError:
        return {}


def worker_of(d):
    kids = sh("pgrep", "-P", str(d.proc.pid), "-x", "smbcimd").stdout.split()
    return kids[0] if len(kids) == 1 else None


def socket_holders(port):
    """Pids holding the listening TCP socket on 127.0.0.1:port."""
    inode = None
    with open("/proc/net/tcp") as f:
        for line in f.read().splitlines()[1:]:
            fields = line.split()
            if fields[1] == "0100007F:%04X" % port and fields[3] == "0A":
                inode = fields[9]
    pids = set()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == "socket:[%s]" % inode:
                    pids.add(pid)
        except OSError:
            pass
    return pids


def wait_gone(pid, seconds):
    for _ in range(int(seconds * 20)):
        st = proc_status(pid)
        if not st or st.get("State", "").startswith("Z"):
            return True
        time.sleep(0.05)
    return False


def privsep(tmp, daemons, d, live_conf):
    """Least privilege (docs/smbcimd.md): the process started as root stays
    root and small; the worker that listens, parses and answers runs as
    the user smbcim without capabilities; it reads smbd's state and runs
    PAM only through the privileged part."""
    import pwd
    pw = pwd.getpwnam(WORKER_USER)
    main_st = proc_status(d.proc.pid)
    check("privsep: the process started stays root (the privileged part)",
          main_st.get("Uid", "").split()[:1] == ["0"], main_st.get("Uid"))
    w = worker_of(d)
    wst = proc_status(w) if w else {}
    check("privsep: one worker, running as %s (uid %d, gid %d, its own group only)"
          % (WORKER_USER, pw.pw_uid, pw.pw_gid),
          w is not None and wst.get("Uid", "").split() == [str(pw.pw_uid)] * 4
          and wst.get("Gid", "").split() == [str(pw.pw_gid)] * 4
          and wst.get("Groups", "").split() == [str(pw.pw_gid)], wst)
    check("privsep: the worker has no capability, no_new_privs set",
          wst.get("CapEff") == "0000000000000000" and wst.get("CapPrm") == "0000000000000000"
          and wst.get("NoNewPrivs") == "1", wst)
    for port, what in ((d.https, "https"), (d.http, "http")):
        holders = socket_holders(port)
        check("privsep: only the worker holds the %s listening socket" % what,
              holders == {w}, (holders, w))
    # A login: the PAM helper is started by the privileged part, as root,
    # for the configured PAM service only.
    rc, out, err = wbemcli("ein", url(d, True, ADMIN, ADMIN_PW, "root/cimv2:Win32_Share"),
                           "-noverify")
    helper = sh("pgrep", "-P", str(d.proc.pid), "smbcimd-auth").stdout.split()
    hst = proc_status(helper[0]) if helper else {}
    cmd = open("/proc/%s/cmdline" % helper[0]).read().split("\0") if helper else []
    check("privsep: the PAM helper is the privileged part's child, root, started for "
          "service smbcimd", rc == 0 and len(helper) == 1 and
          hst.get("Uid", "").split()[:1] == ["0"] and cmd[:2] == ["smbcimd-auth", "smbcimd"],
          (rc, err, helper, hst.get("Uid"), cmd))
    def links(pid):
        try:
            return {os.readlink("/proc/%s/fd/%s" % (pid, fd))
                    for fd in os.listdir("/proc/%s/fd" % pid)}
        except OSError:
            return set()
    # the helper's stdin and stdout: their other ends are the worker's
    ends = {os.readlink("/proc/%s/fd/%d" % (helper[0], n)) for n in (0, 1)} if helper else set()
    check("privsep: the worker holds the helper's pipes, the privileged part does not",
          len(ends) == 2 and all(e.startswith("pipe:") for e in ends) and
          ends <= links(w) and not ends & links(d.proc.pid), (ends, w))
    # The live state came through the privileged part: the worker itself
    # cannot open smbd's databases.
    log = d.logtext()
    check("privsep: the log names the split",
          "privileged part (pid %d): the worker (pid %s) runs as 'smbcim'" % (d.proc.pid, w)
          in log, log[-500:])
    lockdir = sh("testparm", "-s", "--parameter-name=lock directory", live_conf).stdout.strip()
    probe = sh("setpriv", "--reuid", WORKER_USER, "--regid", WORKER_USER, "--clear-groups",
               "cat", os.path.join(lockdir, "smbXsrv_session_global.tdb"))
    check("privsep: as the worker's user, smbd's session database is not readable",
          probe.returncode != 0, probe.stderr)

    # The worker dies: the privileged part ends too (systemd restarts the
    # service), its helpers with it.
    d2 = Daemon(tmp, ["--smb-conf", live_conf], "privsep-kill")
    daemons.append(d2)
    rc, out, err = wbemcli("ein", url(d2, True, ADMIN, ADMIN_PW, "root/cimv2:Win32_Share"),
                           "-noverify")
    w2 = worker_of(d2)
    helper = sh("pgrep", "-P", str(d2.proc.pid), "smbcimd-auth").stdout.split()
    os.kill(int(w2), signal.SIGKILL)
    try:
        code = d2.proc.wait(10)
    except subprocess.TimeoutExpired:
        code = None
    check("privsep: the worker killed -> the privileged part exits 1 and says why",
          code == 1 and "the worker (pid %s) died of signal 9" % w2 in d2.logtext(),
          (code, d2.logtext()[-400:]))
    check("... and ends the PAM helper it started",
          len(helper) == 1 and wait_gone(helper[0], 3), helper)
    daemons.remove(d2)
    d3 = Daemon(tmp, ["--snapshot", FS01], "privsep-kill-main")
    daemons.append(d3)
    w3 = worker_of(d3)
    d3.proc.kill()
    d3.proc.wait()
    check("privsep: the privileged part killed -> the worker dies with it",
          w3 is not None and wait_gone(w3, 5), w3)
    daemons.remove(d3)

    # Start checks made as the worker's user.
    bad = sh(SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"), "--snapshot",
             FS01, "--http", "none", "--https", "127.0.0.1:%d" % free_port(), "--cert",
             os.path.join(tmp, "cert.pem"), "--key", os.path.join(tmp, "key.pem"),
             "--user", "smbcim-no-such-user")
    check("privsep: a user that does not exist: one line, exit 1",
          bad.returncode == 1 and "the user 'smbcim-no-such-user' (user =) does not exist"
          in bad.stderr, bad.stderr)
    secret = os.path.join(tmp, "secret")
    os.mkdir(secret, 0o700)
    shutil.copy(os.path.join(tmp, "key.pem"), os.path.join(secret, "key.pem"))
    bad = sh(SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"), "--snapshot",
             FS01, "--http", "none", "--https", "127.0.0.1:%d" % free_port(), "--cert",
             os.path.join(tmp, "cert.pem"), "--key", os.path.join(secret, "key.pem"))
    check("privsep: a key the worker cannot read: refused at start, naming the user",
          bad.returncode == 1 and "https (as the user 'smbcim'): cannot read the key" in bad.stderr
          and "Permission denied" in bad.stderr, bad.stderr)
    snap = os.path.join(secret, "fs01.json")
    shutil.copy(FS01, snap)
    bad = sh(SMBCIMD, "--check-config", "--config", os.path.join(tmp, "empty.conf"),
             "--snapshot", snap, "--https", "none")
    check("privsep: --check-config: a snapshot the worker cannot read",
          bad.returncode == 1 and "the snapshot %s cannot be read by the user 'smbcim': "
          "Permission denied" % snap in bad.stderr, bad.stderr)
    d4 = Daemon(tmp, ["--snapshot", FS01, "--user", "root"], "privsep-root")
    daemons.append(d4)
    check("privsep: user = root: no split, and a warning says so",
          d4.proc.poll() is None and worker_of(d4) is None and
          "user = root: no privilege separation" in d4.logtext(), d4.logtext()[-300:])
    d4.stop()
    daemons.remove(d4)
    # The sockets are bound before the split: a port below 1024 works
    # although the worker is not root.
    low = next(p for p in range(990, 700, -1)
               if not socket_holders(p) and sh("ss", "-Htln", "sport = :%d" % p).stdout == "")
    d5 = Daemon(tmp, ["--snapshot", FS01, "--http", "127.0.0.1:%d" % low], "privsep-low")
    daemons.append(d5)
    time.sleep(0.3)
    w5 = worker_of(d5)
    check("privsep: a port below 1024 (%d) is bound as root and held by the worker" % low,
          w5 is not None and socket_holders(low) == {w5}, (w5, socket_holders(low),
                                                           d5.logtext()[-300:]))
    d5.stop()
    daemons.remove(d5)
    # The PAM helper answers only for the service it was started for (the
    # build tree's, or the installed one when SMBCIM_BUILD holds links).
    helper_bin = next((h for h in (os.path.join(BUILD, "smbcimd-auth"),
                                   "/usr/libexec/smbcim/smbcimd-auth") if os.path.exists(h)),
                      None)
    req = b"other\0" + ADMIN.encode() + b"\0" + ADMIN_PW.encode() + b"\x00127.0.0.1\x00"
    p = subprocess.run([helper_bin, "smbcimd"],
                       input=len(req).to_bytes(4, "little") + req, capture_output=True,
                       timeout=10)
    check("privsep: smbcimd-auth started for smbcimd refuses a request for another service",
          p.stdout[4:5] == b"1" and b"not the PAM service" in p.stdout, p.stdout)
    req = b"smbcimd\0" + ADMIN.encode() + b"\0" + ADMIN_PW.encode() + b"\x00127.0.0.1\x00"
    p = subprocess.run([helper_bin, "smbcimd"],
                       input=len(req).to_bytes(4, "little") + req, capture_output=True,
                       timeout=10)
    check("... and accepts its own", p.stdout[4:5] == b"0", p.stdout)


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
    accounts = TempAccounts(GECOS)
    daemons = []
    live = None
    try:
        open(os.path.join(tmp, "empty.conf"), "w").close()
        p = self_signed_cert(tmp)
        check("setup: self-signed certificate", p.returncode == 0, p.stderr)
        accounts.pam_service()
        accounts.group(GROUP)
        accounts.user(ADMIN, ADMIN_PW, [GROUP])
        accounts.user(USER, USER_PW)
        check("setup: users %s (admin) and %s" % (ADMIN, USER), True)

        d = Daemon(tmp, ["--snapshot", FS01, "--allow-plain-http"], "snapshot")
        daemons.append(d)
        check("setup: smbcimd started on 127.0.0.1:%d/%d" % (d.http, d.https),
              d.proc.poll() is None, d.logtext())
        for step, fn in (("http verbs", lambda: verbs(d, False, "http")),
                         ("https verbs", lambda: verbs(d, True, "https")),
                         ("http security", lambda: security(d, False, "http")),
                         ("https security", lambda: security(d, True, "https")),
                         ("protocol faults", lambda: protocol(d)),
                         ("framing and %00 headers", lambda: framing(d)),
                         ("TLS versions and ciphers", lambda: tls_versions(d, tmp))):
            fn()
            if not check("smbcimd still running after the %s" % step, d.proc.poll() is None,
                         d.logtext()[-4000:]):
                break

        slow_headers(tmp, daemons)
        connection_limits(tmp, daemons)
        hung_helper(tmp, daemons)

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
        helper_signals(d2)
        rc = d2.stop()
        check("SIGTERM: clean exit (status 0)", rc == 0, rc)
        daemons.remove(d2)
        # (an empty --config: an installed /etc/smbcim/smbcimd.conf names a
        # certificate)
        bad = sh(SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"),
                 "--snapshot", FS01, "--https", "127.0.0.1:1")
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
        privsep(tmp, daemons, d3, live.conf)
        holder.stop()
    except Exception as e:  # noqa: BLE001
        check("unexpected error", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for d in daemons:
            d.stop()
        if live:
            live.stop()
        accounts.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
