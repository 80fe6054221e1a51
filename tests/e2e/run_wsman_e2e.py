#!/usr/bin/python3
"""End-to-end test of smbcimd's WS-Management endpoint (docs/wsman.md) with
the real client python3-winrm (Debian's pywinrm: its HTTPS + Basic
transport and its SOAP-fault reader), and raw HTTP for what that client
cannot send (no credentials, a wrong Content-Type, plain HTTP).

    /usr/bin/python3 tests/e2e/run_wsman_e2e.py     (as root; run make first)

Set-up: two Unix users the test creates (smbcim_mwadmin in the group
smbcim-admins, smbcim_mwuser outside it) with passwords, the PAM service
file /etc/pam.d/smbcimd when missing, a self-signed certificate, and one
smbcimd on 127.0.0.1 (free ports: CIM-XML http/https, wsman-https and
wsman-http, without allow-plain-http) serving tests/fixtures/fs01.json.
Everything created is removed at the end.

The requests are written in the shape Windows' CIM client sends them
(../shared/spec/wsman.md 2.1, 4.1-4.8); the answers are read with
ElementTree, namespaces by URI, and compared with what the smbcim CLI
answers for the same snapshot.

Checks: Identify with and without credentials; 401 (with the WSMAN
challenge) for anything else without credentials, including the OMIGOD
ExecuteShellCommand request, and for a wrong password; ActionNotSupported
for that action with credentials; Enumerate of the five classes
(OptimizeEnumeration, EnumerateObjectAndEPR) against the CLI, values, REF
properties and endpoint references; the WMI resource URI family;
Enumerate + Pull one by one, Pull after the end, Release, another user's
context; WQL filters (SELECT *, a SELECT list, a bad query, an unknown
dialect); the association filter (AssociatedInstances and
AssociationInstances, both directions, ResultClassName/Role/ResultRole)
against the CLI's associators/references; Get of an instance (string keys,
REF keys from an enumerated EPR) and its faults; GetClass (CIM-XML CLASS);
authorization of a non-admin user; plain HTTP refused (403); an unknown
mustUnderstand header, MaxEnvelopeSize 8191, a wrong Content-Type, an
entity-expansion body; RelatesTo = MessageID in every answer; every fault
an HTTP 500 SOAP Fault; the daemon alive at the end with no sanitizer
report in its log.  Prints "ok"/"FAIL" lines and ends with
"N passed, N failed".
"""
import ast
import base64
import http.client
import io
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
import uuid
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape as xml_escape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import (Tally, TempAccounts, WORKER_USER, free_port, self_signed_cert, send_by_hand,  # noqa: E402
                   sh)

BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))
SMBCIMD = os.path.join(BUILD, "smbcimd")
SMBCIM = os.path.join(BUILD, "smbcim")
FS01 = os.path.join(ROOT, "tests", "fixtures", "fs01.json")
ADMIN, ADMIN_PW = "smbcim_mwadmin", "Adm1n-wsman-e2e"
USER, USER_PW = "smbcim_mwuser", "Us3r-wsman-e2e"
GROUP = "smbcim-admins"
GECOS = "smbcim wsman e2e temporary user"

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "b": "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
}
for _p, _u in NS.items():
    ET.register_namespace(_p, _u)


def q(prefix, local):
    """The ElementTree name {uri}local of prefix:local."""
    return "{%s}%s" % (NS[prefix], local)


DMTF = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
DMTF_ALL = "http://schemas.dmtf.org/wbem/wscim/1/*"
WMI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/"
CIMXML_ALL = "http://schemas.dmtf.org/wbem/cim-xml/2/cim-schema/2/*"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
A_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
A_ENUM = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
A_PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
A_RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
D_WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
D_ASSOC = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter"
OMIGOD_ACTION = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem/ExecuteShellCommand"
CT_SOAP = "application/soap+xml;charset=UTF-8"

CLASSES = ["Win32_Share", "Win32_ServerSession", "Win32_ServerConnection",
           "Win32_ConnectionShare", "Win32_SessionConnection", "MSFT_SmbOpenFile",
           "MSFT_SmbSession"]
KEYS = {"Win32_Share": ["Name"], "Win32_ServerSession": ["ComputerName", "UserName"],
        "Win32_ServerConnection": ["ComputerName", "ShareName", "UserName"],
        "Win32_ConnectionShare": ["Antecedent", "Dependent"],
        "Win32_SessionConnection": ["Antecedent", "Dependent"],
        "MSFT_SmbOpenFile": ["FileId"],
        "MSFT_SmbSession": ["SessionId"],
        "SMBCIM_ShareOpenFile": ["Antecedent", "Dependent"],
        "SMBCIM_ConnectionOpenFile": ["Antecedent", "Dependent"],
        "SMBCIM_SessionOpenFile": ["Antecedent", "Dependent"]}
REFS = {"Win32_ConnectionShare": ("Antecedent", "Dependent"),
        "Win32_SessionConnection": ("Antecedent", "Dependent"),
        "SMBCIM_ShareOpenFile": ("Antecedent", "Dependent"),
        "SMBCIM_ConnectionOpenFile": ("Antecedent", "Dependent"),
        "SMBCIM_SessionOpenFile": ("Antecedent", "Dependent")}
# Objects of fs01.json the filters start from.
SHARE = "Projects"
CONN = (("ComputerName", "10.0.0.5"), ("ShareName", "Projects"), ("UserName", "alice"))
CONN_PATH = 'Win32_ServerConnection.ComputerName="10.0.0.5",ShareName="Projects",UserName="alice"'
SHARE_PATH = 'Win32_Share.Name="Projects"'

T = Tally()
check = T.check
# Every answer the client got: (request MessageID, RelatesTo, status, has a
# SOAP Fault, what) -- for the RelatesTo and fault-shape checks at the end.
LEDGER = []


# ---- daemon ------------------------------------------------------------------------

class Daemon:
    def __init__(self, tmp, extra, name):
        self.http, self.https = free_port(), free_port()
        self.wsman_https, self.wsman_http = free_port(), free_port()
        self.log = os.path.join(tmp, "smbcimd-%s.log" % name)
        argv = [SMBCIMD, "--foreground", "--config", os.path.join(tmp, "empty.conf"),
                "--http", "127.0.0.1:%d" % self.http, "--https", "127.0.0.1:%d" % self.https,
                "--wsman-https", "127.0.0.1:%d" % self.wsman_https,
                "--wsman-http", "127.0.0.1:%d" % self.wsman_http,
                "--cert", os.path.join(tmp, "cert.pem"), "--key", os.path.join(tmp, "key.pem")
                ] + extra
        self.logf = open(self.log, "w")
        self.proc = subprocess.Popen(argv, stdout=self.logf, stderr=self.logf)
        for _ in range(200):
            try:
                for port in (self.wsman_https, self.wsman_http):
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
                if self.proc.poll() is not None:
                    break

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        if not self.logf.closed:
            self.logf.close()
        return rc


# ---- requests ----------------------------------------------------------------------

class Raw:
    """Selector or header content given as XML, not as text."""

    def __init__(self, xml):
        self.xml = xml


def new_id():
    return "uuid:" + str(uuid.uuid4()).upper()


def selector_set(selectors):
    if not selectors:
        return ""
    out = ["<w:SelectorSet>"]
    for name, value in selectors:
        v = value.xml if isinstance(value, Raw) else xml_escape(value)
        out.append('<w:Selector Name="%s">%s</w:Selector>' % (xml_escape(name), v))
    out.append("</w:SelectorSet>")
    return "".join(out)


def envelope(action, uri, selectors=(), body="", msgid=None, max_env="512000", extra="",
             opid=None, options=None):
    """A request as Windows' CIM client writes it (spec 2.1): the text and
    its MessageID.  action None: no Action header (Identify)."""
    msgid = msgid or new_id()
    h = ['<a:To>https://127.0.0.1/wsman</a:To>']
    if uri is not None:
        h.append('<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>' % xml_escape(uri))
    h.append('<a:ReplyTo><a:Address s:mustUnderstand="true">%s</a:Address></a:ReplyTo>' % ANON)
    if action is not None:
        h.append('<a:Action s:mustUnderstand="true">%s</a:Action>' % xml_escape(action))
    if max_env is not None:
        h.append('<w:MaxEnvelopeSize s:mustUnderstand="true">%s</w:MaxEnvelopeSize>' % max_env)
    h.append('<a:MessageID>%s</a:MessageID>' % msgid)
    h.append('<w:Locale xml:lang="en-US" s:mustUnderstand="false" />'
             '<p:DataLocale xml:lang="en-US" s:mustUnderstand="false" />'
             '<p:SessionId s:mustUnderstand="false">uuid:4F5AC357-8435-40D7-8850-837FB54905B5'
             '</p:SessionId>'
             '<p:OperationID s:mustUnderstand="false">%s</p:OperationID>'
             '<p:SequenceId s:mustUnderstand="false">1</p:SequenceId>' % (opid or new_id()))
    h.append(selector_set(selectors))
    # options: (Name, Type, text, MustComply or None); Windows' client always
    # sends UsePreciseArrays, and more for some operations (spec 4.8)
    opts = [("msftwinrm:UsePreciseArrays", "xs:boolean", "true", None)] + list(options or [])
    h.append('<w:OptionSet xmlns:xsi="%s">' % NS["xsi"] + "".join(
        '<w:Option Name="%s" Type="%s"%s>%s</w:Option>'
        % (xml_escape(n), t, "" if mc is None else ' MustComply="%s"' % mc, xml_escape(v))
        for n, t, v, mc in opts) + '</w:OptionSet>')
    h.append(extra)
    text = ('<s:Envelope xmlns:s="%(s)s" xmlns:a="%(a)s" xmlns:n="%(n)s" xmlns:w="%(w)s" '
            'xmlns:p="%(p)s" xmlns:b="%(b)s"><s:Header>' % NS + "".join(h) +
            '</s:Header><s:Body>%s</s:Body></s:Envelope>' % body)
    return text, msgid


def enum_body(optimize=True, max_elements=32000, mode="EnumerateObjectAndEPR", filt=""):
    parts = ["<n:Enumerate>"]
    if optimize:
        parts.append("<w:OptimizeEnumeration/>")
    if max_elements is not None:
        parts.append("<w:MaxElements>%d</w:MaxElements>" % max_elements)
    if mode:
        parts.append("<w:EnumerationMode>%s</w:EnumerationMode>" % mode)
    parts.append(filt)
    parts.append("</n:Enumerate>")
    return "".join(parts)


def wql(query, dialect=D_WQL):
    return '<w:Filter Dialect="%s">%s</w:Filter>' % (xml_escape(dialect), xml_escape(query))


def epr_xml(cls, keys, wrap=None):
    """An EPR to a DMTF class with __cimnamespace and the key selectors; its
    children only (wrap None) or wrapped in element wrap."""
    inner = ("<a:Address>%s</a:Address><a:ReferenceParameters><w:ResourceURI>%s</w:ResourceURI>"
             % (ANON, DMTF + cls) +
             selector_set([("__cimnamespace", "root/cimv2")] + list(keys)) +
             "</a:ReferenceParameters>")
    return "<%s>%s</%s>" % (wrap, inner, wrap) if wrap else inner


def assoc_filter(kind, cls, keys, **f):
    """The association filter (spec 4.4): kind AssociatedInstances or
    AssociationInstances, the Object, and the b: names given."""
    order = ("AssociationClassName", "Role", "ResultClassName", "ResultRole")
    extra = "".join("<b:%s>%s</b:%s>" % (k, xml_escape(f[k]), k) for k in order if f.get(k))
    return ('<w:Filter Dialect="%s"><b:%s><b:Object>%s</b:Object>%s</b:%s></w:Filter>'
            % (D_ASSOC, kind, epr_xml(cls, keys), extra, kind))


# ---- answers -----------------------------------------------------------------------

class Resp:
    """One answer: HTTP status, body, the parsed envelope and its prefixes."""

    def __init__(self, status, body, what, msgid=None, winrm_fault=None):
        self.status, self.body, self.what = status, body or b"", what
        self.winrm_fault = winrm_fault
        self.root, self.nsmap, self.error = None, {}, None
        if isinstance(self.body, str):
            self.body = self.body.encode()
        if self.body.strip():
            try:
                it = ET.iterparse(io.BytesIO(self.body), events=("start-ns",))
                for _ev, (pfx, u) in it:
                    self.nsmap.setdefault(pfx, u)
                self.root = it.root
            except ET.ParseError as e:
                self.error = str(e)
        self.header = self.root.find(q("s", "Header")) if self.root is not None else None
        self.sbody = self.root.find(q("s", "Body")) if self.root is not None else None
        self.fault = self.sbody.find(q("s", "Fault")) if self.sbody is not None else None
        self.relates_to = None
        if self.header is not None:
            rt = self.header.find(q("a", "RelatesTo"))
            self.relates_to = rt.text.strip() if rt is not None and rt.text else None
        if msgid is not None and status != 401:
            LEDGER.append((msgid, self.relates_to, status, self.fault is not None, what))

    def qname(self, text):
        """prefix:local of a fault code resolved with the envelope's prefixes."""
        if not text:
            return None
        text = text.strip()
        pfx, _, local = text.rpartition(":")
        return "{%s}%s" % (self.nsmap.get(pfx, "?" + pfx), local)

    def code(self):
        if self.fault is None:
            return None
        v = self.fault.find(q("s", "Code") + "/" + q("s", "Value"))
        return self.qname(v.text if v is not None else None)

    def subcode(self):
        if self.fault is None:
            return None
        v = self.fault.find("/".join((q("s", "Code"), q("s", "Subcode"), q("s", "Value"))))
        return self.qname(v.text if v is not None else None)

    def body_child(self, prefix, local):
        return self.sbody.find(q(prefix, local)) if self.sbody is not None else None

    def short(self):
        return "HTTP %s %s" % (self.status, self.body[:1500].decode(errors="replace"))


class Client:
    """python3-winrm's Protocol for one user; send() returns a Resp for a
    success, a SOAP fault and an HTTP error alike."""

    def __init__(self, port, user, pw):
        import winrm.protocol
        self.p = winrm.protocol.Protocol(endpoint="https://127.0.0.1:%d/wsman" % port,
                                         transport="basic", username=user, password=pw,
                                         server_cert_validation="ignore",
                                         read_timeout_sec=30, operation_timeout_sec=20)

    def send(self, text, msgid=None, what=""):
        from winrm.exceptions import InvalidCredentialsError, WinRMError, WinRMTransportError
        try:
            body = self.p.send_message(text)
        except InvalidCredentialsError:
            return Resp(401, b"", what, msgid)
        except WinRMTransportError as e:
            return Resp(e.code, e.response_text, what, msgid)
        except WinRMError as e:
            # a SOAP fault: pywinrm raises it from the transport error that
            # carries the body; its own reading of code/subcode is in the text
            data = None
            m = re.search(r"\(extended fault data: (\{.*\})\)\s*$", str(e), re.S)
            if m:
                try:
                    data = ast.literal_eval(m.group(1))
                except (ValueError, SyntaxError):
                    data = None
            ctx = e.__context__
            if ctx is not None and hasattr(ctx, "response_text"):
                return Resp(ctx.code, ctx.response_text, what, msgid, winrm_fault=data)
            return Resp(getattr(e, "code", 0), str(e).encode(), what, msgid, winrm_fault=data)
        if body is None:
            # pywinrm returns None for an XML error answer that is no SOAP fault
            return Resp(-1, b"", what + " (pywinrm: an HTTP error whose XML body is not a "
                        "SOAP Fault)", msgid)
        return Resp(200, body, what, msgid)


def tls_ctx():
    c = ssl.create_default_context()
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


def raw(port, body, tls=True, user=None, pw=None, ctype=CT_SOAP, what=""):
    """A POST /wsman through http.client: (status, headers dict (lower-case
    names), body bytes)."""
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=20, context=tls_ctx())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    headers = {"Content-Type": ctype, "User-Agent": "smbcim wsman e2e"}
    if user is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(
            ("%s:%s" % (user, pw)).encode()).decode()
    try:
        data = body.encode() if isinstance(body, str) else body
        conn.request("POST", "/wsman", body=data, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def expect_fault(name, r, subcode=None, code=None):
    """A check that r is an HTTP 500 SOAP fault with that subcode/code."""
    ok = r.status == 500 and r.fault is not None
    if subcode:
        ok = ok and r.subcode() == subcode
    if code:
        ok = ok and r.code() == code
    return check(name, ok, "want 500 fault %s %s; got code %s subcode %s; %s"
                 % (code or "", subcode or "", r.code(), r.subcode(), r.short()))


Q = q


# ---- values --------------------------------------------------------------------------

DT_RE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:\d\d)$")
IV_RE = re.compile(r"^P(\d+)DT(\d+)H(\d+)M(\d+)(?:\.(\d{1,6}))?S$")


def xs_to_dmtf(text):
    """cim:Datetime (xs:dateTime) -> DMTF yyyymmddHHMMSS.mmmmmm+UUU."""
    m = DT_RE.match(text.strip())
    if not m:
        return "BAD-DATETIME:" + text
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    frac = (frac or "").ljust(6, "0")
    if tz == "Z":
        off = "+000"
    else:
        minutes = int(tz[1:3]) * 60 + int(tz[4:6])
        off = "%s%03d" % (tz[0], minutes)
    return "%s%s%s%s%s%s.%s%s" % (y, mo, d, hh, mm, ss, frac, off)


def xs_interval_to_dmtf(text):
    m = IV_RE.match(text.strip())
    if not m:
        return "BAD-INTERVAL:" + text
    d, hh, mm, ss, frac = m.groups()
    return "%08d%02d%02d%02d.%s:000" % (int(d), int(hh), int(mm), int(ss),
                                        (frac or "").ljust(6, "0"))


def epr_value(el, problems=None):
    """An EPR (the element holding a:Address and a:ReferenceParameters) as
    ("REF", class, ((key, value), ...)): names lower-case (WMI names are
    case-insensitive), __cimnamespace left out."""
    if problems is not None:
        addr = el.find(Q("a", "Address"))
        if addr is None or (addr.text or "").strip() != ANON:
            problems.append("EPR without the anonymous a:Address")
    rp = el.find(Q("a", "ReferenceParameters"))
    if rp is None:
        if problems is not None:
            problems.append("EPR without a:ReferenceParameters")
        return ("REF", "?", ())
    ru = rp.find(Q("w", "ResourceURI"))
    uri = (ru.text or "").strip() if ru is not None else ""
    if problems is not None and ru is None:
        problems.append("EPR without w:ResourceURI")
    cls = uri.rsplit("/", 1)[-1]
    sels = []
    ss = rp.find(Q("w", "SelectorSet"))
    if ss is None and problems is not None:
        problems.append("EPR without w:SelectorSet")
    for s in (ss.findall(Q("w", "Selector")) if ss is not None else []):
        name = s.get("Name") or ""
        if name.lower() == "__cimnamespace":
            continue
        inner = s.find(Q("a", "EndpointReference"))
        v = epr_value(inner, problems) if inner is not None else (s.text or "")
        sels.append((name.lower(), v))
    return ("REF", cls.lower(), tuple(sorted(sels, key=repr)))


def epr_info(el):
    """(ResourceURI, {selector name lower: w:Selector element}) of an EPR."""
    rp = el.find(Q("a", "ReferenceParameters"))
    if rp is None:
        return None, {}
    ru = rp.find(Q("w", "ResourceURI"))
    ss = rp.find(Q("w", "SelectorSet"))
    sels = {}
    for s in (ss.findall(Q("w", "Selector")) if ss is not None else []):
        sels[(s.get("Name") or "").lower()] = s
    return ((ru.text or "").strip() if ru is not None else None), sels


def ws_value(ch, problems=None):
    if ch.get(Q("xsi", "nil")) == "true":
        return None
    if ch.find(Q("a", "ReferenceParameters")) is not None:
        return epr_value(ch, problems)
    dt = ch.find(Q("cim", "Datetime"))
    if dt is not None:
        return xs_to_dmtf(dt.text or "")
    iv = ch.find(Q("cim", "Interval"))
    if iv is not None:
        return xs_interval_to_dmtf(iv.text or "")
    if len(ch):
        return "UNEXPECTED-CHILDREN:" + ET.tostring(ch, encoding="unicode")[:200]
    return ch.text or ""


def ws_instance(el, problems=None):
    """A p:<Class> element: (class, [(property, value), ...] in document
    order, element namespace)."""
    m = re.match(r"^\{(.*)\}(.*)$", el.tag)
    ns, cls = (m.group(1), m.group(2)) if m else ("", el.tag)
    props = []
    for ch in el:
        cm = re.match(r"^\{(.*)\}(.*)$", ch.tag)
        cns, name = (cm.group(1), cm.group(2)) if cm else ("", ch.tag)
        if problems is not None and cns != ns:
            problems.append("%s.%s in namespace %s, not the class's %s" % (cls, name, cns, ns))
        props.append((name, ws_value(ch, problems)))
    return cls, props, ns


def parse_path(text):
    """A WMI object path (as REF values hold them) as epr_value's tuple."""
    text = text.strip()
    m = re.match(r"^(?:\\\\[^\\]*\\[^:]*:)?([A-Za-z0-9_]+)\.(.*)$", text, re.S)
    if not m:
        return ("REF", "?path:" + text, ())
    cls, rest = m.group(1), m.group(2)
    keys, i = [], 0
    while i < len(rest):
        eq = rest.index("=", i)
        name = rest[i:eq].strip()
        i = eq + 1
        if rest[i] == '"':
            i += 1
            val = []
            while rest[i] != '"':
                if rest[i] == "\\":
                    i += 1
                val.append(rest[i])
                i += 1
            i += 1
            v = "".join(val)
        else:
            j = rest.find(",", i)
            j = len(rest) if j < 0 else j
            v = rest[i:j].strip()
            i = j
        keys.append((name.lower(), v))
        if i < len(rest) and rest[i] == ",":
            i += 1
    return ("REF", cls.lower(), tuple(sorted(keys, key=repr)))


def cli_value(cls, prop, v):
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if prop in REFS.get(cls, ()):
        return parse_path(v)
    return v


def cli_rows(*args):
    p = sh(SMBCIM, "--snapshot", FS01, "--format", "json", *args)
    if p.returncode != 0:
        raise RuntimeError("smbcim %s: exit %d %s" % (" ".join(args), p.returncode, p.stderr))
    out = []
    for row in json.loads(p.stdout or "[]"):
        cls = row["__CLASS"]
        props = [(k, cli_value(cls, k, v)) for k, v in row.items() if not k.startswith("__")]
        out.append((cls, props))
    return out


def sig(cls, props):
    """An instance as a hashable value: class and its (property, value)s."""
    return (cls.lower(), tuple(sorted(((k.lower(), v) for k, v in props), key=lambda kv: kv[0])))


def sigs(items):
    return sorted((sig(c, p) for c, p in items), key=repr)


def diff(ws, cl):
    a, b = set(ws), set(cl)
    return "only WS-Man: %s | only CLI: %s" % (sorted(a - b, key=repr)[:3],
                                               sorted(b - a, key=repr)[:3])


# ---- the enumerations ----------------------------------------------------------------

def enum_items(r, problems, family_uri):
    """The w:Item list of an optimized EnumerateResponse: [(class, props,
    element, EPR element)]; problems collects shape errors."""
    er = r.body_child("n", "EnumerateResponse")
    if er is None:
        problems.append("no n:EnumerateResponse")
        return []
    if er.find(Q("n", "EnumerationContext")) is None:
        problems.append("no n:EnumerationContext")
    items = er.find(Q("w", "Items"))
    if items is None:
        problems.append("no w:Items")
        return []
    if er.find(Q("w", "EndOfSequence")) is None:
        problems.append("no w:EndOfSequence")
    out = []
    for it in items:
        if it.tag != Q("w", "Item"):
            problems.append("an Items child %s, not w:Item" % it.tag)
            continue
        inst = [c for c in it if c.tag != Q("a", "EndpointReference")]
        epr = it.find(Q("a", "EndpointReference"))
        if len(inst) != 1 or epr is None:
            problems.append("w:Item without one instance and one a:EndpointReference")
            continue
        cls, props, ns = ws_instance(inst[0], problems)
        if ns != family_uri(cls):
            problems.append("%s element namespace %s, want %s" % (cls, ns, family_uri(cls)))
        out.append((cls, props, inst[0], epr))
    return out


def check_epr(cls, props, epr, problems, family_uri, dmtf=True):
    """The item's EPR: anonymous address, the class URI, __cimnamespace (DMTF
    family), its key selectors = the instance's key values."""
    uri, sels = epr_info(epr)
    if uri != family_uri(cls):
        problems.append("%s EPR ResourceURI %s" % (cls, uri))
    addr = epr.find(Q("a", "Address"))
    if addr is None or (addr.text or "").strip() != ANON:
        problems.append("%s EPR address" % cls)
    nsel = sels.get("__cimnamespace")
    if dmtf and (nsel is None or (nsel.text or "").strip().lower().replace("\\", "/") != "root/cimv2"):
        problems.append("%s EPR __cimnamespace %s" % (cls, None if nsel is None else nsel.text))
    got = epr_value(epr, problems)[2]
    pv = dict((k, v) for k, v in props)
    want = tuple(sorted(((k.lower(), pv.get(k)) for k in KEYS.get(cls, [])), key=repr))
    if got != want:
        problems.append("%s EPR selectors %s != keys %s" % (cls, got, want))


def enumerate_classes(admin, d):
    dmtf_uri = lambda c: DMTF + c  # noqa: E731
    first_cs = None
    for cls in CLASSES:
        text, mid = envelope(A_ENUM, DMTF + cls, [("__cimnamespace", "root/cimv2")], enum_body())
        r = admin.send(text, mid, "Enumerate " + cls)
        problems = []
        items = enum_items(r, problems, dmtf_uri) if r.status == 200 else []
        for c, props, el, epr in items:
            check_epr(c, props, epr, problems, dmtf_uri)
            for rp in REFS.get(c, ()):
                ch = el.find("{%s}%s" % (DMTF + c, rp))
                if ch is None or ch.find(Q("a", "Address")) is None or ch.find(
                        Q("a", "ReferenceParameters") + "/" + Q("w", "ResourceURI")) is None or \
                        ch.find(Q("a", "ReferenceParameters") + "/" + Q("w", "SelectorSet")) is None:
                    problems.append("%s.%s is not an EPR (a:Address, a:ReferenceParameters with "
                                    "w:ResourceURI and w:SelectorSet)" % (c, rp))
        check("Enumerate %s (Optimize, 32000, ObjectAndEPR): 200, context, w:Items of w:Item, "
              "w:EndOfSequence, namespaces, EPRs" % cls,
              r.status == 200 and not problems, (problems[:5], r.short()[:600]))
        cli = cli_rows("query", "SELECT * FROM " + cls)
        ws = sigs((c, p) for c, p, _e, _r in items)
        check("Enumerate %s = CLI query (%d instances, every value)" % (cls, len(cli)),
              ws == sigs(cli) and len(cli) > 0, diff(ws, sigs(cli)))
        cli_order = {sig(cc, cp): [k for k, _ in cp] for cc, cp in cli}
        bad_order = [([k for k, _ in p], cli_order.get(sig(c, p)))
                     for c, p, _e, _r in items
                     if sig(c, p) in cli_order and [k for k, _ in p] != cli_order[sig(c, p)]]
        check("Enumerate %s: property elements in class order (as the CLI lists them)" % cls,
              items and not bad_order, bad_order[:1])
        if cls == "Win32_ConnectionShare" and items:
            first_cs = items[0]
    # the WMI URI family
    wmi_uri = lambda c: WMI + c  # noqa: E731
    text, mid = envelope(A_ENUM, WMI + "Win32_Share", [], enum_body())
    r = admin.send(text, mid, "Enumerate WMI Win32_Share")
    problems = []
    items = enum_items(r, problems, wmi_uri) if r.status == 200 else []
    for c, props, el, epr in items:
        check_epr(c, props, epr, problems, wmi_uri, dmtf=False)
    ws = sigs((c, p) for c, p, _e, _r in items)
    cli = sigs(cli_rows("query", "SELECT * FROM Win32_Share"))
    check("Enumerate wmi/root/cimv2/Win32_Share (no selector): 200, element namespace = the "
          "WMI URI, EPRs", r.status == 200 and not problems and items,
          (problems[:5], r.short()[:600]))
    check("... same instances as the CLI", ws == cli, diff(ws, cli))
    return first_cs


def pulls(admin, user):
    cli = sigs(cli_rows("query", "SELECT * FROM Win32_Share"))
    # plain Enumerate: the context only
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body(optimize=False, max_elements=None, mode=None))
    r = admin.send(text, mid, "plain Enumerate")
    er = r.body_child("n", "EnumerateResponse")
    ctx_el = er.find(Q("n", "EnumerationContext")) if er is not None else None
    ctx = (ctx_el.text or "").strip() if ctx_el is not None else None
    check("plain Enumerate (no OptimizeEnumeration): 200, an EnumerationContext, no items",
          r.status == 200 and ctx and er.find(Q("w", "Items")) is None and
          er.find(Q("n", "Items")) is None and er.find(Q("w", "EndOfSequence")) is None,
          r.short())
    got, n, ctx_missing, sizes, last = [], 0, [], [], None
    while ctx and n < 40:
        n += 1
        text, mid = envelope(A_PULL, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                             "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                             "<n:MaxElements>1</n:MaxElements></n:Pull>" % xml_escape(ctx))
        r = admin.send(text, mid, "Pull %d" % n)
        pr = r.body_child("n", "PullResponse")
        if r.status != 200 or pr is None:
            last = r
            break
        items = pr.find(Q("n", "Items"))
        insts = list(items) if items is not None else []
        sizes.append(len(insts))
        for el in insts:
            c, props, ns = ws_instance(el)
            if ns != DMTF + c:
                ctx_missing.append("namespace %s" % ns)
            got.append((c, props))
        eos = pr.find(Q("n", "EndOfSequence")) is not None
        c_el = pr.find(Q("n", "EnumerationContext"))
        if eos:
            last = r
            break
        if c_el is None or not (c_el.text or "").strip():
            ctx_missing.append("PullResponse %d without EndOfSequence has no context" % n)
            break
        ctx = c_el.text.strip()
    check("Pull with MaxElements 1 until n:EndOfSequence: %d pulls of one item each, every "
          "PullResponse but the last with a context" % len(cli),
          last is not None and last.status == 200 and len(got) == len(cli) and
          sizes == [1] * len(cli) and not ctx_missing,
          (len(got), sizes, ctx_missing, last.short()[:500] if last else None))
    check("... the pulled instances = the CLI's", sigs(got) == cli, diff(sigs(got), cli))
    if ctx:
        text, mid = envelope(A_PULL, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                             "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                             "<n:MaxElements>1</n:MaxElements></n:Pull>" % xml_escape(ctx))
        r = admin.send(text, mid, "Pull after the end")
        expect_fault("Pull after EndOfSequence -> n:InvalidEnumerationContext", r,
                     Q("n", "InvalidEnumerationContext"))

    def open_ctx(client):
        text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                             enum_body(optimize=False, max_elements=None, mode=None))
        r = client.send(text, mid, "plain Enumerate")
        er = r.body_child("n", "EnumerateResponse")
        c = er.find(Q("n", "EnumerationContext")) if er is not None else None
        return (c.text or "").strip() if c is not None else None

    def pull(client, ctx_id, what):
        text, mid = envelope(A_PULL, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                             "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                             "<n:MaxElements>1</n:MaxElements></n:Pull>" % xml_escape(ctx_id or ""))
        return client.send(text, mid, what)

    def release(client, ctx_id, what):
        text, mid = envelope(A_RELEASE, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                             "<n:Release><n:EnumerationContext>%s</n:EnumerationContext>"
                             "</n:Release>" % xml_escape(ctx_id or ""))
        return client.send(text, mid, what)

    c1 = open_ctx(admin)
    r = release(admin, c1, "Release")
    act = r.header.find(Q("a", "Action")) if r.header is not None else None
    check("Release of an open context -> 200 (ReleaseResponse)",
          c1 and r.status == 200 and r.fault is None and act is not None and
          (act.text or "").strip().endswith("/ReleaseResponse"), r.short())
    r = pull(admin, c1, "Pull after Release")
    expect_fault("Pull after Release -> n:InvalidEnumerationContext", r,
                 Q("n", "InvalidEnumerationContext"))
    c2 = open_ctx(admin)
    r = pull(user, c2, "Pull of another user's context")
    expect_fault("Pull of %s's context by %s -> n:InvalidEnumerationContext" % (ADMIN, USER), r,
                 Q("n", "InvalidEnumerationContext"))
    r = release(admin, c2, "Release after the other user's Pull")
    check("... and the context is still %s's (its Release -> 200)" % ADMIN,
          c2 and r.status == 200 and r.fault is None, r.short())


def batches(admin):
    """Windows' flow past MaxElements: the first items in the
    EnumerateResponse, the rest by Pull (w:Item pairs in n:Items); and
    batches cut to MaxEnvelopeSize."""
    dmtf_uri = lambda c: DMTF + c  # noqa: E731
    cli = sigs(cli_rows("query", "SELECT * FROM Win32_Share"))
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body(max_elements=3))
    r = admin.send(text, mid, "Enumerate MaxElements 3")
    er = r.body_child("n", "EnumerateResponse")
    got, problems = [], []
    items = er.find(Q("w", "Items")) if er is not None else None
    for it in (items if items is not None else []):
        inst = [c for c in it if c.tag != Q("a", "EndpointReference")]
        if it.tag != Q("w", "Item") or len(inst) != 1:
            problems.append("EnumerateResponse item %s" % it.tag)
            continue
        c, p, _ns = ws_instance(inst[0], problems)
        got.append((c, p))
    c_el = er.find(Q("n", "EnumerationContext")) if er is not None else None
    ctx = (c_el.text or "").strip() if c_el is not None else None
    check("Enumerate Win32_Share, OptimizeEnumeration + MaxElements 3: 3 w:Item, a context, "
          "no w:EndOfSequence", r.status == 200 and len(got) == 3 and ctx and
          er.find(Q("w", "EndOfSequence")) is None and not problems, (problems, r.short()[:500]))
    text, mid = envelope(A_PULL, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                         "<n:MaxElements>32000</n:MaxElements></n:Pull>" % xml_escape(ctx or ""))
    r = admin.send(text, mid, "Pull the rest")
    pr = r.body_child("n", "PullResponse")
    items = pr.find(Q("n", "Items")) if pr is not None else None
    n_items = 0
    for it in (items if items is not None else []):
        inst = [c for c in it if c.tag != Q("a", "EndpointReference")]
        epr = it.find(Q("a", "EndpointReference"))
        if it.tag != Q("w", "Item") or len(inst) != 1 or epr is None:
            problems.append("PullResponse item %s is not a w:Item pair" % it.tag)
            continue
        c, p, _ns = ws_instance(inst[0], problems)
        check_epr(c, p, epr, problems, dmtf_uri)
        got.append((c, p))
        n_items += 1
    check("... Pull (MaxElements 32000): the other %d as w:Item (instance + EPR) in n:Items, "
          "n:EndOfSequence" % (len(cli) - 3),
          r.status == 200 and pr is not None and n_items == len(cli) - 3 and
          pr.find(Q("n", "EndOfSequence")) is not None and not problems,
          (problems[:3], r.short()[:500]))
    check("... together the CLI's instances", sigs(got) == cli, diff(sigs(got), cli))

    # MaxEnvelopeSize 8192: every answer fits, the items come in several
    cls = "Win32_ServerConnection"
    cli = sigs(cli_rows("query", "SELECT * FROM " + cls))
    text, mid = envelope(A_ENUM, DMTF + cls, [("__cimnamespace", "root/cimv2")], enum_body(),
                         max_env="8192")
    r = admin.send(text, mid, "Enumerate MaxEnvelopeSize 8192")
    sizes, got, problems, rounds = [len(r.body)], [], [], 0
    er = r.body_child("n", "EnumerateResponse")
    items = er.find(Q("w", "Items")) if er is not None else None
    for it in (items if items is not None else []):
        inst = [c for c in it if c.tag != Q("a", "EndpointReference")]
        if inst:
            got.append(ws_instance(inst[0], problems)[:2])
    eos = er is not None and er.find(Q("w", "EndOfSequence")) is not None
    c_el = er.find(Q("n", "EnumerationContext")) if er is not None else None
    ctx = (c_el.text or "").strip() if c_el is not None else None
    while r.status == 200 and not eos and ctx and rounds < 20:
        rounds += 1
        text, mid = envelope(A_PULL, DMTF + cls, [("__cimnamespace", "root/cimv2")],
                             "<n:Pull><n:EnumerationContext>%s</n:EnumerationContext>"
                             "<n:MaxElements>32000</n:MaxElements></n:Pull>" % xml_escape(ctx),
                             max_env="8192")
        r = admin.send(text, mid, "Pull MaxEnvelopeSize 8192")
        sizes.append(len(r.body))
        pr = r.body_child("n", "PullResponse")
        if pr is None:
            break
        items = pr.find(Q("n", "Items"))
        for it in (items if items is not None else []):
            inst = [c for c in it if c.tag != Q("a", "EndpointReference")]
            if inst:
                got.append(ws_instance(inst[0], problems)[:2])
        eos = pr.find(Q("n", "EndOfSequence")) is not None
        c_el = pr.find(Q("n", "EnumerationContext"))
        ctx = (c_el.text or "").strip() if c_el is not None else None
    check("MaxEnvelopeSize 8192 on %s: every answer <= 8192 bytes, cut into %d, all the "
          "CLI's instances" % (cls, len(sizes)),
          r.status == 200 and eos and max(sizes) <= 8192 and len(sizes) > 1 and
          sigs(got) == cli and not problems,
          (sizes, problems[:3], diff(sigs(got), cli), r.short()[:400]))


def queries(admin):
    star = "SELECT * FROM Win32_ServerConnection WHERE ShareName = '%s'" % SHARE
    text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                         enum_body(filt=wql(star)))
    r = admin.send(text, mid, "WQL select *")
    problems = []
    items = enum_items(r, problems, lambda c: DMTF + c) if r.status == 200 else []
    for c, props, el, epr in items:
        check_epr(c, props, epr, problems, lambda c: DMTF + c)
    ws = sigs((c, p) for c, p, _e, _r in items)
    cli = sigs(cli_rows("query", star))
    check("WQL on wscim/1/* '%s' = CLI (%d)" % (star, len(cli)),
          r.status == 200 and not problems and ws == cli and len(cli) > 0,
          (problems[:5], diff(ws, cli), r.short()[:500]))

    sel = "SELECT Name FROM Win32_Share"
    text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                         enum_body(filt=wql(sel)))
    r = admin.send(text, mid, "WQL select Name")
    problems = []
    items = enum_items(r, problems, lambda c: DMTF + c) if r.status == 200 else []
    only_name = all([k for k, _ in p] == ["Name"] for _c, p, _e, _r in items)
    ws = sigs((c, p) for c, p, _e, _r in items)
    cli = sigs(cli_rows("query", sel))
    check("WQL '%s': instances with only p:Name, = CLI (%d)" % (sel, len(cli)),
          r.status == 200 and not problems and only_name and ws == cli and len(cli) > 0,
          (problems[:5], [[k for k, _ in p] for _c, p, _e, _r in items[:2]], diff(ws, cli),
           r.short()[:400]))

    text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                         enum_body(filt=wql("SELECT FROM")))
    expect_fault("WQL 'SELECT FROM' -> n:CannotProcessFilter",
                 admin.send(text, mid, "bad WQL"), Q("n", "CannotProcessFilter"))
    text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                         enum_body(filt=wql("SELECT * FROM Win32_Share",
                                            "http://example.org/no-such-dialect")))
    expect_fault("unknown filter dialect -> n:FilterDialectRequestedUnavailable",
                 admin.send(text, mid, "unknown dialect"),
                 Q("n", "FilterDialectRequestedUnavailable"))


def associations(admin):
    share_keys = [("Name", SHARE)]
    cases = [
        ("AssociatedInstances of Win32_Share %s, AssociationClassName Win32_ConnectionShare" % SHARE,
         "AssociatedInstances", "Win32_Share", share_keys,
         {"AssociationClassName": "Win32_ConnectionShare"},
         ["associators", SHARE_PATH, "--assoc-class", "Win32_ConnectionShare"]),
        ("AssociationInstances of Win32_Share %s, ResultClassName Win32_ConnectionShare" % SHARE,
         "AssociationInstances", "Win32_Share", share_keys,
         {"ResultClassName": "Win32_ConnectionShare"},
         ["references", SHARE_PATH, "--result-class", "Win32_ConnectionShare"]),
        ("AssociatedInstances of the connection (3 key selectors)",
         "AssociatedInstances", "Win32_ServerConnection", list(CONN), {},
         ["associators", CONN_PATH]),
        ("AssociatedInstances of the connection, ResultClassName Win32_ServerSession",
         "AssociatedInstances", "Win32_ServerConnection", list(CONN),
         {"ResultClassName": "Win32_ServerSession"},
         ["associators", CONN_PATH, "--result-class", "Win32_ServerSession"]),
        ("AssociatedInstances of the connection, Role Dependent, ResultRole Antecedent",
         "AssociatedInstances", "Win32_ServerConnection", list(CONN),
         {"Role": "Dependent", "ResultRole": "Antecedent"},
         ["associators", CONN_PATH, "--role", "Dependent", "--result-role", "Antecedent"]),
        ("AssociatedInstances of the connection, Role Antecedent (none)",
         "AssociatedInstances", "Win32_ServerConnection", list(CONN), {"Role": "Antecedent"},
         ["associators", CONN_PATH, "--role", "Antecedent"]),
        ("AssociatedInstances of the connection, AssociationClassName Win32_SessionConnection, "
         "ResultRole Antecedent",
         "AssociatedInstances", "Win32_ServerConnection", list(CONN),
         {"AssociationClassName": "Win32_SessionConnection", "ResultRole": "Antecedent"},
         ["associators", CONN_PATH, "--assoc-class", "Win32_SessionConnection",
          "--result-role", "Antecedent"]),
        ("AssociationInstances of the connection", "AssociationInstances",
         "Win32_ServerConnection", list(CONN), {}, ["references", CONN_PATH]),
        ("AssociationInstances of the connection, ResultClassName Win32_SessionConnection",
         "AssociationInstances", "Win32_ServerConnection", list(CONN),
         {"ResultClassName": "Win32_SessionConnection"},
         ["references", CONN_PATH, "--result-class", "Win32_SessionConnection"]),
        ("AssociationInstances of the connection, Role Dependent", "AssociationInstances",
         "Win32_ServerConnection", list(CONN), {"Role": "Dependent"},
         ["references", CONN_PATH, "--role", "Dependent"]),
    ]
    for name, kind, cls, keys, f, cli_args in cases:
        text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                             enum_body(filt=assoc_filter(kind, cls, keys, **f)))
        r = admin.send(text, mid, name)
        problems = []
        items = enum_items(r, problems, lambda c: DMTF + c) if r.status == 200 else []
        for c, props, el, epr in items:
            check_epr(c, props, epr, problems, lambda c: DMTF + c)
        ws = sigs((c, p) for c, p, _e, _r in items)
        cli = sigs(cli_rows(*cli_args))
        check("association filter: %s = CLI %s (%d)" % (name, cli_args[0], len(cli)),
              r.status == 200 and not problems and ws == cli,
              (problems[:5], diff(ws, cli), r.short()[:500]))


def selector_from_epr_selector(s):
    """A w:Selector element of an enumerated EPR as (name, value) for
    selector_set: text, or the nested a:EndpointReference as XML."""
    inner = s.find(Q("a", "EndpointReference"))
    if inner is None:
        return (s.get("Name"), s.text or "")
    return (s.get("Name"), Raw(ET.tostring(inner, encoding="unicode")))


def gets(admin, first_cs):
    sel = [("__cimnamespace", "root/cimv2"), ("Name", SHARE)]
    text, mid = envelope(A_GET, DMTF + "Win32_Share", sel)
    r = admin.send(text, mid, "Get Win32_Share")
    el = r.sbody[0] if r.sbody is not None and len(r.sbody) else None
    act = r.header.find(Q("a", "Action")) if r.header is not None else None
    cli = cli_rows("get", SHARE_PATH)
    ok = r.status == 200 and el is not None and el.tag == "{%s}Win32_Share" % (DMTF + "Win32_Share")
    ws = [ws_instance(el)[:2]] if ok else []
    check("Get Win32_Share Name=%s: GetResponse with p:Win32_Share = CLI get" % SHARE,
          ok and act is not None and (act.text or "").strip().endswith("/GetResponse") and
          sigs(ws) == sigs(cli), (diff(sigs(ws), sigs(cli)), r.short()[:600]))

    text, mid = envelope(A_GET, WMI + "Win32_Share", [("Name", SHARE)])
    r = admin.send(text, mid, "Get WMI Win32_Share")
    el = r.sbody[0] if r.sbody is not None and len(r.sbody) else None
    ok = r.status == 200 and el is not None and el.tag == "{%s}Win32_Share" % (WMI + "Win32_Share")
    ws = [ws_instance(el)[:2]] if ok else []
    check("Get wmi/root/cimv2/Win32_Share?Name=%s = CLI get" % SHARE,
          ok and sigs(ws) == sigs(cli), (diff(sigs(ws), sigs(cli)), r.short()[:600]))

    if first_cs is None:
        check("Get Win32_ConnectionShare by its EPR's REF selectors", False,
              "no enumerated Win32_ConnectionShare")
    else:
        c, props, _el, epr = first_cs
        rp = epr.find(Q("a", "ReferenceParameters"))
        ss = rp.find(Q("w", "SelectorSet")) if rp is not None else None
        sels = [selector_from_epr_selector(s) for s in (ss if ss is not None else [])]
        has_epr = sum(isinstance(v, Raw) for _n, v in sels)
        text, mid = envelope(A_GET, DMTF + "Win32_ConnectionShare", sels)
        r = admin.send(text, mid, "Get Win32_ConnectionShare")
        el = r.sbody[0] if r.sbody is not None and len(r.sbody) else None
        ok = r.status == 200 and el is not None and \
            el.tag == "{%s}Win32_ConnectionShare" % (DMTF + "Win32_ConnectionShare")
        ws = [ws_instance(el)[:2]] if ok else []
        all_cli = set(sigs(cli_rows("query", "SELECT * FROM Win32_ConnectionShare")))
        check("Get Win32_ConnectionShare with Antecedent/Dependent as a:EndpointReference "
              "selectors (from an enumerated EPR) = that instance",
              ok and has_epr == 2 and sigs(ws) == [sig(c, props)] and sigs(ws)[0] in all_cli,
              (has_epr, sigs(ws), sig(c, props), r.short()[:600]))

    for name, uri, sel, sub in (
            ("Get of a missing instance -> a:DestinationUnreachable", DMTF + "Win32_Share",
             [("__cimnamespace", "root/cimv2"), ("Name", "NoSuchShare")],
             Q("a", "DestinationUnreachable")),
            ("Get with a selector that is not a key (Path) -> w:InvalidSelectors",
             DMTF + "Win32_Share",
             [("__cimnamespace", "root/cimv2"), ("Name", SHARE), ("Path", "/srv/projects")],
             Q("w", "InvalidSelectors")),
            ("Get with a key missing (ShareName) -> w:InvalidSelectors",
             DMTF + "Win32_ServerConnection",
             [("__cimnamespace", "root/cimv2"), ("ComputerName", "10.0.0.5"),
              ("UserName", "alice")], Q("w", "InvalidSelectors")),
            ("Get of an unknown class -> a:DestinationUnreachable", DMTF + "Win32_NoSuchClass",
             [("__cimnamespace", "root/cimv2"), ("Name", SHARE)], Q("a", "DestinationUnreachable")),
            ("Get in an unknown namespace (root/foo) -> a:DestinationUnreachable",
             DMTF + "Win32_Share", [("__cimnamespace", "root/foo"), ("Name", SHARE)],
             Q("a", "DestinationUnreachable"))):
        text, mid = envelope(A_GET, uri, sel)
        expect_fault(name, admin.send(text, mid, name), sub)

    # GetClass
    text, mid = envelope(A_GET, CIMXML_ALL, [("__cimnamespace", "root/cimv2"),
                                             ("ClassName", "Win32_Share")])
    r = admin.send(text, mid, "GetClass")
    cl = r.sbody.find("CLASS") if r.sbody is not None else None
    if cl is None and r.sbody is not None:
        cl = next((e for e in r.sbody.iter() if e.tag == "CLASS"), None)
    props = [p.get("NAME") for p in cl.iter() if p.tag.startswith("PROPERTY")] if cl is not None else []
    check("GetClass (cim-xml/2/cim-schema/2/*, ClassName Win32_Share): GetResponse with a "
          "CIM-XML <CLASS NAME=\"Win32_Share\"> with its properties",
          r.status == 200 and cl is not None and cl.get("NAME") == "Win32_Share" and
          "Name" in props and "Path" in props, (props[:12], r.short()[:600]))

    def getclass(cls, options):
        text, mid = envelope(A_GET, CIMXML_ALL, [("__cimnamespace", "root/cimv2"),
                                                 ("ClassName", cls)], options=options)
        r = admin.send(text, mid, "GetClass %s" % cls)
        el = next((e for e in r.sbody.iter() if e.tag == "CLASS"), None) \
            if r.sbody is not None else None
        return r, el

    r, cl = getclass("Win32_ConnectionShare", WINDOWS_GETCLASS_OPTIONS)
    check("GetClass with Windows' options: DERIVATION is the superclass chain "
          "(IncludeInheritanceHierarchy)", cl is not None
          and cl.get("DERIVATION") == "CIM_Dependency" and cl.get("SUPERCLASS") == "CIM_Dependency",
          r.short()[:600])
    r, cl = getclass("Win32_ServerConnection", [])
    check("GetClass without those options: no DERIVATION; qualifiers and inherited "
          "properties as before", cl is not None and cl.get("DERIVATION") is None
          and any(e.tag == "QUALIFIER" for e in cl.iter())
          and any(p.get("NAME") == "Caption" for p in cl.iter("PROPERTY")), r.short()[:600])
    r, cl = getclass("Win32_ServerConnection", [
        ("IncludeQualifiers", "xs:boolean", "false", None),
        ("IncludeInheritedElements", "xs:boolean", "false", None),
        ("IncludeInheritanceHierarchy", "xs:boolean", "true", None)])
    names = [p.get("NAME") for p in cl.iter("PROPERTY")] if cl is not None else []
    check("GetClass IncludeQualifiers=false, IncludeInheritedElements=false: no QUALIFIER, "
          "only the class's own properties; DERIVATION the chain from the superclass up, as "
          "WMI's __DERIVATION",
          cl is not None and not any(e.tag == "QUALIFIER" for e in cl.iter())
          and "ComputerName" in names and "Caption" not in names
          and cl.get("DERIVATION") == "CIM_LogicalElement,CIM_ManagedSystemElement",
          (names, cl.attrib if cl is not None else None, r.short()[:400]))
    text, mid = envelope(A_GET, WMI + "Win32_Share", [("Name", SHARE)],
                         options=[("smbcim:NoSuchOption", "xs:boolean", "true", "true")])
    expect_fault("an unknown option with MustComply=\"true\" -> w:InvalidOptions",
                 admin.send(text, mid, "MustComply"), Q("w", "InvalidOptions"))
    text, mid = envelope(A_GET, WMI + "Win32_Share", [("Name", SHARE)],
                         options=[("smbcim:NoSuchOption", "xs:boolean", "true", "false")])
    r = admin.send(text, mid, "MustComply false")
    check("the same option without MustComply is ignored (the instance comes back)",
          r.status == 200 and r.fault is None, r.short()[:400])


def authorization(user):
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body())
    r = user.send(text, mid, "user Enumerate Win32_Share")
    problems = []
    items = enum_items(r, problems, lambda c: DMTF + c) if r.status == 200 else []
    # A share known only from a tree connect (a [homes] share, one removed
    # since) reveals a connection: a user who may not read the connections
    # does not see it (src/providers/provider.h, "reveals"); the shares of
    # the configuration are what is left.
    with open(FS01) as f:
        configured = {sh_["name"] for sh_ in json.load(f)["shares"]}
    cli = sigs((c, p) for c, p in cli_rows("query", "SELECT * FROM Win32_Share")
               if dict(p).get("Name") in configured)
    ws = sigs((c, p) for c, p, _e, _r in items)
    check("%s (not admin) enumerates Win32_Share: 200, the CLI's instances of the %d "
          "configured shares" % (USER, len(configured)),
          r.status == 200 and not problems and ws == cli and len(cli) == len(configured),
          (problems[:3], diff(ws, cli), r.short()[:400]))
    text, mid = envelope(A_ENUM, DMTF + "Win32_ServerConnection",
                         [("__cimnamespace", "root/cimv2")], enum_body())
    expect_fault("%s enumerates Win32_ServerConnection -> w:AccessDenied" % USER,
                 user.send(text, mid, "user Enumerate connections"), Q("w", "AccessDenied"))
    text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                         enum_body(filt=wql("SELECT * FROM Win32_ServerSession")))
    expect_fault("%s: WQL SELECT * FROM Win32_ServerSession -> w:AccessDenied" % USER,
                 user.send(text, mid, "user WQL sessions"), Q("w", "AccessDenied"))
    text, mid = envelope(A_GET, DMTF + "Win32_ServerConnection",
                         [("__cimnamespace", "root/cimv2")] + list(CONN))
    expect_fault("%s: Get of a Win32_ServerConnection -> w:AccessDenied" % USER,
                 user.send(text, mid, "user Get connection"), Q("w", "AccessDenied"))
    text, mid = envelope(A_ENUM, DMTF_ALL, [("__cimnamespace", "root/cimv2")],
                         enum_body(filt=assoc_filter("AssociatedInstances", "Win32_Share",
                                                     [("Name", SHARE)])))
    r = user.send(text, mid, "user associators of a share")
    items = enum_items(r, [], lambda c: DMTF + c) if r.status == 200 else []
    leaked = [c for c, _p, _e, _r in items if c.lower() != "win32_share"]
    check("%s: associators of share %s reveal no session class (AccessDenied or none)"
          % (USER, SHARE),
          (r.status == 500 and r.subcode() == Q("w", "AccessDenied")) or
          (r.status == 200 and not leaked), (leaked, r.short()[:500]))


def identify_and_auth(d, admin):
    ident = ('<s:Envelope xmlns:s="%s" xmlns:wsmid="%s"><s:Header/><s:Body><wsmid:Identify/>'
             '</s:Body></s:Envelope>' % (NS["s"], NS["wsmid"]))
    st, hdr, body = raw(d.wsman_https, ident)
    r = Resp(st, body, "anonymous Identify")
    ir = r.body_child("wsmid", "IdentifyResponse")
    check("Identify without credentials: 200 soap+xml, wsmid:IdentifyResponse with "
          "ProtocolVersion and no ProductVersion",
          st == 200 and hdr.get("content-type", "").lower().startswith("application/soap+xml")
          and ir is not None and ir.find(Q("wsmid", "ProtocolVersion")) is not None and
          ir.find(Q("wsmid", "ProductVersion")) is None, (st, hdr, body[:600]))
    r = admin.send(ident, None, "Identify")
    ir = r.body_child("wsmid", "IdentifyResponse")
    vendor = ir.find(Q("wsmid", "ProductVendor")) if ir is not None else None
    check("Identify with credentials (python3-winrm): ProductVendor smbcim, ProductVersion",
          r.status == 200 and ir is not None and vendor is not None and
          (vendor.text or "").strip() == "smbcim" and
          ir.find(Q("wsmid", "ProductVersion")) is not None and
          ir.find(Q("wsmid", "ProtocolVersion")) is not None, r.short())

    text, _ = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                       enum_body())
    st, hdr, body = raw(d.wsman_https, text)
    check("Enumerate without credentials -> 401, WWW-Authenticate: Basic realm=\"WSMAN\", "
          "nothing of the data", st == 401 and hdr.get("www-authenticate") ==
          'Basic realm="WSMAN"' and b"Projects" not in body, (st, hdr, body[:300]))
    # Identify with an Action header is not an Identify
    text, _ = envelope(A_GET, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2"),
                                                     ("Name", SHARE)])
    st, hdr, body = raw(d.wsman_https, text)
    check("Get without credentials -> 401 + WSMAN challenge",
          st == 401 and hdr.get("www-authenticate") == 'Basic realm="WSMAN"' and
          b"Projects" not in body, (st, hdr, body[:300]))
    st, hdr, body = raw(d.wsman_https, "<not-xml")
    check("a malformed body without credentials -> 401 (no parser message)",
          st == 401 and hdr.get("www-authenticate") == 'Basic realm="WSMAN"' and
          b"line" not in body, (st, hdr, body[:300]))
    text, _ = envelope(A_PULL, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                       "<n:Pull><n:EnumerationContext>uuid:00000000-0000-0000-0000-000000000000"
                       "</n:EnumerationContext></n:Pull>")
    st, hdr, body = raw(d.wsman_https, text)
    check("Pull without credentials -> 401 + WSMAN challenge",
          st == 401 and hdr.get("www-authenticate") == 'Basic realm="WSMAN"', (st, hdr, body[:300]))
    st, hdr, body = raw(d.wsman_https, omigod_request(d.wsman_https))
    check("OMIGOD request (no Authorization, SCX_OperatingSystem/ExecuteShellCommand, "
          "root/scx) -> 401 + WSMAN challenge",
          st == 401 and hdr.get("www-authenticate") == 'Basic realm="WSMAN"' and
          b"uid=" not in body, (st, hdr, body[:300]))
    r = admin.send(omigod_request(d.wsman_https), OMIGOD_ID, "ExecuteShellCommand")
    expect_fault("the same ExecuteShellCommand with %s's credentials -> a:ActionNotSupported"
                 % ADMIN, r, Q("a", "ActionNotSupported"))
    check("... and no command ran (no uid= in the answer)", b"uid=" not in r.body, r.short())


OMIGOD_ID = "uuid:0AB58087-C2C3-0005-0000-000000010000"


def omigod_request(port):
    """The public OMIGOD exploit request (CVE-2021-38647), command `id`."""
    return ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:h="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" '
            'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
            'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd" '
            'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema">'
            '<s:Header><a:To>HTTP://127.0.0.1:%d/wsman/</a:To>'
            '<w:ResourceURI s:mustUnderstand="true">http://schemas.dmtf.org/wbem/wscim/1/'
            'cim-schema/2/SCX_OperatingSystem</w:ResourceURI>'
            '<a:ReplyTo><a:Address s:mustUnderstand="true">%s</a:Address></a:ReplyTo>'
            '<a:Action>%s</a:Action>'
            '<w:MaxEnvelopeSize s:mustUnderstand="true">102400</w:MaxEnvelopeSize>'
            '<a:MessageID>%s</a:MessageID>'
            '<w:OperationTimeout>PT1M30S</w:OperationTimeout>'
            '<w:Locale xml:lang="en-us" s:mustUnderstand="false" />'
            '<p:DataLocale xml:lang="en-us" s:mustUnderstand="false" />'
            '<w:OptionSet s:mustUnderstand="true" />'
            '<w:SelectorSet><w:Selector Name="__cimnamespace">root/scx</w:Selector>'
            '</w:SelectorSet></s:Header>'
            '<s:Body><p:ExecuteShellCommand_INPUT xmlns:p="http://schemas.dmtf.org/wbem/wscim/'
            '1/cim-schema/2/SCX_OperatingSystem"><p:command>id</p:command>'
            '<p:timeout>0</p:timeout></p:ExecuteShellCommand_INPUT></s:Body></s:Envelope>'
            % (port, ANON, OMIGOD_ACTION, OMIGOD_ID))


def protocol_faults(d, admin):
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body(), extra='<x:Foo xmlns:x="urn:x" s:mustUnderstand="true"/>')
    r = admin.send(text, mid, "mustUnderstand")
    nu = r.header.find(Q("s", "NotUnderstood")) if r.header is not None else None
    expect_fault("unknown header x:Foo with s:mustUnderstand=\"true\" -> s:MustUnderstand", r,
                 code=Q("s", "MustUnderstand"))
    check("... with s:NotUnderstood naming {urn:x}Foo",
          nu is not None and r.qname(nu.get("qname")) == "{urn:x}Foo", r.short())
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body(), extra='<x:Foo xmlns:x="urn:x" s:mustUnderstand="false"/>')
    r = admin.send(text, mid, "mustUnderstand false")
    check("the same header with mustUnderstand=\"false\" is ignored (200)", r.status == 200,
          r.short())
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body(), max_env="8191")
    expect_fault("MaxEnvelopeSize 8191 -> w:EncodingLimit",
                 admin.send(text, mid, "MaxEnvelopeSize 8191"), Q("w", "EncodingLimit"))
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body())
    st, hdr, body = raw(d.wsman_https, text, user=ADMIN, pw=ADMIN_PW, ctype="text/xml")
    check("Content-Type text/xml -> 400", st == 400, (st, body[:300]))
    ents = ['<!ENTITY lol "lol">'] + [
        '<!ENTITY lol%d "%s">' % (i, ("&lol%s;" % (i - 1 if i > 1 else "")) * 10)
        for i in range(1, 10)]
    lol = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n%s\n]>\n<s:Envelope xmlns:s="%s">'
           '<s:Header/><s:Body><x>&lol9;</x></s:Body></s:Envelope>' % ("\n".join(ents), NS["s"]))
    t0 = time.monotonic()
    r = admin.send(lol, None, "billion laughs")
    check("DOCTYPE/billion-laughs body with credentials -> HTTP 500 SOAP fault, quickly "
          "(%.1f s)" % (time.monotonic() - t0),
          r.status == 500 and r.fault is not None and time.monotonic() - t0 < 10,
          (r.subcode(), r.short()[:500]))
    check("smbcimd still running after the entity-expansion body", d.proc.poll() is None,
          d.logtext()[-2000:])


def plain_http(d):
    text, _ = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                       enum_body())
    st, hdr, body = raw(d.wsman_http, text, tls=False, user=ADMIN, pw=ADMIN_PW)
    check("wsman-http without allow-plain-http -> 403 (no data)",
          st == 403 and b"Projects" not in body, (st, body[:300]))


def wrong_password(d):
    bad = Client(d.wsman_https, ADMIN, "not-the-password")
    text, mid = envelope(A_ENUM, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2")],
                         enum_body())
    r = bad.send(text, mid, "wrong password")
    check("wrong password (python3-winrm) -> 401 (InvalidCredentialsError)", r.status == 401,
          r.short())
    time.sleep(0.3)
    st, hdr, body = raw(d.wsman_https, text, user=ADMIN, pw="still-not-it")
    check("wrong password (raw) -> 401 + WWW-Authenticate: Basic realm=\"WSMAN\"",
          st == 401 and hdr.get("www-authenticate") == 'Basic realm="WSMAN"' and
          b"Projects" not in body, (st, hdr, body[:300]))


def ledger_checks():
    rel = [(m, rt, what) for m, rt, st, _f, what in LEDGER if m is not None and rt != m]
    check("RelatesTo = the request's MessageID in all %d answers to requests with one"
          % sum(1 for e in LEDGER if e[0] is not None), not rel, rel[:5])
    bad = [(st, f, what) for _m, _rt, st, f, what in LEDGER
           if (st != 200 or f) and not (st == 500 and f)]
    check("every fault: HTTP 500 with a SOAP Fault body (%d faults)"
          % sum(1 for e in LEDGER if e[3]), not bad, bad[:5])


def winrm_reads_faults(admin):
    """pywinrm's own fault reader sees our code and subcode."""
    text, mid = envelope(A_GET, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2"),
                                                       ("Name", SHARE), ("Bogus", "1")])
    r = admin.send(text, mid, "winrm fault reader")
    wf = r.winrm_fault or {}
    check("python3-winrm reads the fault: http 500, fault_code s:Sender, fault_subcode "
          "w:InvalidSelectors, a WSManFault Code",
          wf.get("http_status_code") == 500 and r.qname(wf.get("fault_code")) == Q("s", "Sender")
          and r.qname(wf.get("fault_subcode")) == Q("w", "InvalidSelectors") and
          "wsmanfault_code" in wf, (wf, r.short()[:400]))


# ---- golden exchanges ------------------------------------------------------------------

GOLDEN_DIR = os.path.join(ROOT, "tests", "golden", "wsman")
# What differs from run to run in an answer: smbcimd's own MessageID and an
# enumeration context's id.  Everything else must stay byte for byte.
GOLDEN_MASKS = (
    (re.compile(rb"(<a:MessageID>)uuid:[0-9A-Fa-f-]{36}(</a:MessageID>)"), rb"\1uuid:MASKED\2"),
    (re.compile(rb"(<n:EnumerationContext>)[^<]*(</n:EnumerationContext>)"), rb"\1MASKED\2"),
)


def golden_mask(body):
    for rx, rep in GOLDEN_MASKS:
        body = rx.sub(rep, body)
    return body


# What Windows' client sends with a GetClass (spec 4.8).
WINDOWS_GETCLASS_OPTIONS = [
    ("IncludeInheritanceHierarchy", "xs:boolean", "true", None),
    ("IncludeInheritedElements", "xs:boolean", "true", None),
    ("IncludeQualifiers", "xs:boolean", "true", None),
    ("__MI_CallbackRegistration", "xs:int", "11", None),
    ("wmi:__MI_OPERATIONOPTIONS_WRITEERRORMODE", "xs:unsignedInt", "1", None),
]


def golden_requests():
    """(name, who, request text) in order; fixed ids, so that the requests
    themselves are byte-identical from run to run.  who: admin, user, anon.
    A request may refer to the previous answer's context: {CTX}."""
    def env(n, action, uri, selectors=None, body="", **kw):
        if selectors is None:  # the DMTF family names its namespace
            selectors = ([("__cimnamespace", "root/cimv2")]
                         if uri.startswith("http://schemas.dmtf.org/") else [])
        mid = "uuid:00000000-0000-4000-8000-%012d" % n
        return envelope(action, uri, selectors, body, msgid=mid,
                        opid="uuid:00000000-0000-4000-9000-%012d" % n, **kw)[0]
    ident = ('<s:Envelope xmlns:s="%s" xmlns:wsmid="%s"><s:Header/><s:Body>'
             '<wsmid:Identify/></s:Body></s:Envelope>' % (NS["s"], NS["wsmid"]))
    return [
        ("01-identify-anonymous", "anon", ident),
        ("02-identify", "admin", ident),
        ("03-enumerate-connectionshare", "admin",
         env(3, A_ENUM, DMTF + "Win32_ConnectionShare", body=enum_body())),
        ("04-enumerate-share-wmi-uri", "admin",
         env(4, A_ENUM, WMI + "Win32_Share", body=enum_body(mode=None))),
        ("05-enumerate-wql", "admin",
         env(5, A_ENUM, DMTF_ALL, body=enum_body(filt=wql(
             "SELECT ComputerName, UserName, NumberOfFiles FROM Win32_ServerConnection "
             "WHERE ShareName = 'Projects'")))),
        ("06-enumerate-paged", "admin",
         env(6, A_ENUM, DMTF + "Win32_ServerSession", body=enum_body(max_elements=1))),
        ("07-pull", "admin",
         env(7, A_PULL, DMTF + "Win32_ServerSession",
             body="<n:Pull><n:EnumerationContext>{CTX}</n:EnumerationContext>"
                  "<n:MaxElements>2</n:MaxElements></n:Pull>")),
        ("08-associated-instances", "admin",
         env(8, A_ENUM, DMTF_ALL, body=enum_body(filt=assoc_filter(
             "AssociatedInstances", "Win32_Share", [("Name", SHARE)],
             AssociationClassName="Win32_ConnectionShare")))),
        ("09-association-instances", "admin",
         env(9, A_ENUM, DMTF_ALL, body=enum_body(filt=assoc_filter(
             "AssociationInstances", "Win32_ServerConnection", list(CONN))))),
        ("10-get-connection", "admin",
         env(10, A_GET, DMTF + "Win32_ServerConnection",
             [("__cimnamespace", "root/cimv2")] + list(CONN))),
        ("11-get-class", "admin",
         env(11, A_GET, CIMXML_ALL, [("__cimnamespace", "root/cimv2"),
                                     ("ClassName", "Win32_ConnectionShare")])),
        ("12-fault-unknown-class", "admin",
         env(12, A_ENUM, DMTF + "Win32_NoSuchClass", body=enum_body())),
        ("13-fault-missing-instance", "admin",
         env(13, A_GET, DMTF + "Win32_Share", [("__cimnamespace", "root/cimv2"),
                                               ("Name", "NoSuchShare")])),
        ("14-fault-bad-query", "admin",
         env(14, A_ENUM, DMTF_ALL, body=enum_body(filt=wql("SELECT FROM WHERE")))),
        ("15-fault-access-denied", "user",
         env(15, A_ENUM, DMTF + "Win32_ServerSession", body=enum_body())),
        ("16-fault-unknown-context", "admin",
         env(16, A_PULL, DMTF + "Win32_ServerSession",
             body="<n:Pull><n:EnumerationContext>uuid:00000000-0000-4000-8000-000000000000"
                  "</n:EnumerationContext></n:Pull>")),
        ("17-unauthenticated-enumerate", "anon",
         env(17, A_ENUM, DMTF + "Win32_Share", body=enum_body())),
        ("18-get-class-windows-options", "admin",
         env(18, A_GET, CIMXML_ALL, [("__cimnamespace", "root/cimv2"),
                                     ("ClassName", "Win32_ServerConnection")],
             options=WINDOWS_GETCLASS_OPTIONS)),
    ]


def golden(d):
    """Every request of golden_requests() against fs01.json; the answer
    (status line, Content-Type, body with GOLDEN_MASKS applied) must equal
    tests/golden/wsman/NAME.response byte for byte, and the request
    NAME.request.xml.  SMBCIM_GOLDEN_UPDATE=1 writes the files instead
    (review the diff before committing it)."""
    update = os.environ.get("SMBCIM_GOLDEN_UPDATE") == "1"
    who = {"admin": (ADMIN, ADMIN_PW), "user": (USER, USER_PW), "anon": (None, None)}
    ctx = None
    names = []
    for name, role, stored_req in golden_requests():
        text = stored_req.replace("{CTX}", ctx or "missing")
        user, pw = who[role]
        status, headers, body = raw(d.wsman_https, text, user=user, pw=pw, what=name)
        m = re.search(rb"<n:EnumerationContext>([^<]*)</n:EnumerationContext>", body)
        if m:
            ctx = m.group(1).decode()
        got = ("HTTP %d\nContent-Type: %s\n\n" % (status, headers.get("content-type", ""))
               ).encode() + golden_mask(body)
        req_file = os.path.join(GOLDEN_DIR, name + ".request.xml")
        resp_file = os.path.join(GOLDEN_DIR, name + ".response")
        names.append(name)
        if update:
            os.makedirs(GOLDEN_DIR, exist_ok=True)
            with open(req_file, "w") as f:
                f.write(stored_req)
            with open(resp_file, "wb") as f:
                f.write(got)
            continue
        try:
            with open(req_file) as f:
                want_req = f.read()
            with open(resp_file, "rb") as f:
                want = f.read()
        except OSError as e:
            check("golden %s: files present" % name, False, str(e))
            continue
        check("golden %s: the request is the stored one" % name,
              want_req == stored_req, "request text changed; SMBCIM_GOLDEN_UPDATE=1 rewrites")
        if want != got:
            import difflib
            dl = "\n".join(difflib.unified_diff(
                want.decode(errors="replace").replace("><", ">\n<").splitlines(),
                got.decode(errors="replace").replace("><", ">\n<").splitlines(),
                "stored", "now", lineterm="", n=2))
            check("golden %s: the answer is the stored one, byte for byte" % name, False,
                  dl[:3000])
        else:
            check("golden %s: the answer is the stored one, byte for byte" % name, True)
    if not update:
        stored = sorted(f[:-len(".response")] for f in os.listdir(GOLDEN_DIR)
                        if f.endswith(".response"))
        check("golden: no stored exchange without its request in the test",
              stored == sorted(names), (stored, names))
    return names


# ---- limits: bodies, slow clients, many contexts ---------------------------------------

def limits(tmp, admin, user):
    """What the CIM-XML listener guarantees, on /wsman: oversized bodies
    refused before they are read (with and without a length), a slow body
    cut off after request-seconds while others are served, and 1,000
    Enumerates that each leave a context open: the caps (32 a user, 256 in
    all) answer w:QuotaLimit beyond, other users keep theirs, Release frees."""
    ld = Daemon(tmp, ["--snapshot", FS01, "--request-seconds", "3"], "wsman-limits")
    try:
        if not check("limits: a second smbcimd (request-seconds 3) started",
                     ld.proc.poll() is None, ld.logtext()):
            return
        auth = base64.b64encode(("%s:%s" % (ADMIN, ADMIN_PW)).encode()).decode()
        head = ("POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                "Authorization: Basic %s\r\n" % (CT_SOAP, auth))
        resp = send_by_hand(ld.wsman_https, head + "Content-Length: %d\r\n\r\n" % (2 << 20), [],
                            tls_context=tls_ctx())
        check("limits: oversized body (Content-Length 2 MiB) -> 413 before it is read",
              resp.startswith(b"HTTP/1.1 413"), resp[:100])
        chunk = b"x" * 65536
        body = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 40 + [b"0\r\n\r\n"]
        resp = send_by_hand(ld.wsman_https, head + "Transfer-Encoding: chunked\r\n\r\n", body,
                            tls_context=tls_ctx())
        check("limits: oversized chunked body (2.5 MiB, no length) -> 413",
              resp.startswith(b"HTTP/1.1 413"), resp[:100])
        small = envelope(A_ENUM, WMI + "Win32_Share", body=enum_body())[0].encode()
        t0 = time.time()
        resp = send_by_hand(ld.wsman_https, head + "Content-Length: %d\r\n\r\n" % len(small),
                            [small[i:i + 1] for i in range(len(small))], delay=0.05,
                            tls_context=tls_ctx())
        dt = time.time() - t0
        check("limits: slow body (a byte every 50 ms) cut off after request-seconds (3 s; "
              "took %.1f s)" % dt, not resp.startswith(b"HTTP/1.1 200") and 2.5 < dt < 9,
              resp[:100])
        t0 = time.time()
        st, _, _ = raw(ld.wsman_https, small.decode(), user=ADMIN, pw=ADMIN_PW)
        check("limits: a normal request answered at once after those (%.2f s)"
              % (time.time() - t0), st == 200 and time.time() - t0 < 2, st)

        # 1,000 contexts over one keep-alive connection
        conn = http.client.HTTPSConnection("127.0.0.1", ld.wsman_https, timeout=20,
                                           context=tls_ctx())
        hdrs = {"Content-Type": CT_SOAP, "Authorization": "Basic " + auth}
        opened, quota, other, codes = [], 0, [], set()
        open_req = envelope(A_ENUM, WMI + "Win32_ServerSession",
                            body=enum_body(optimize=False, max_elements=None, mode=None))[0]
        t0 = time.time()
        for _ in range(1000):
            conn.request("POST", "/wsman", body=open_req.encode(), headers=hdrs)
            r = conn.getresponse()
            data = r.read()
            m = re.search(rb"<n:EnumerationContext>([^<]*)</n:EnumerationContext>", data)
            if r.status == 200 and m:
                opened.append(m.group(1).decode())
            elif r.status == 500 and b"QuotaLimit" in data:
                quota += 1
                codes.update(re.findall(rb"<p:error_Code>(\d+)</p:error_Code>", data))
            else:
                other.append((r.status, data[:300]))
        dt = time.time() - t0
        check("limits: 1,000 Enumerates by one user: 32 contexts open, 968 w:QuotaLimit, "
              "nothing else (%.1f s)" % dt, len(opened) == 32 and quota == 968 and not other,
              (len(opened), quota, other[:2]))
        check("limits: the QuotaLimit faults carry WBEM_E_QUOTA_VIOLATION (0x8004106C) as "
              "their WMI error code", codes == {b"2147749996"}, codes)
        ru = user.send(*envelope(A_ENUM, WMI + "Win32_Share",
                                 body=enum_body(optimize=False, max_elements=None,
                                                mode=None)), what="other user's context")
        check("limits: another user still opens a context meanwhile",
              ru.status == 200 and ru.body_child("n", "EnumerateResponse") is not None,
              ru.short()[:300])
        rel_ok = 0
        for ctx in opened:
            rel = envelope(A_RELEASE, WMI + "Win32_ServerSession",
                           body="<n:Release><n:EnumerationContext>%s</n:EnumerationContext>"
                                "</n:Release>" % ctx)[0]
            conn.request("POST", "/wsman", body=rel.encode(), headers=hdrs)
            r = conn.getresponse()
            r.read()
            rel_ok += r.status == 200
        conn.request("POST", "/wsman", body=open_req.encode(), headers=hdrs)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        check("limits: the 32 released; the user opens a context again",
              rel_ok == 32 and r.status == 200 and b"EnumerationContext" in data,
              (rel_ok, r.status, data[:300]))
        st = ld.stop()
        log = ld.logtext()
        check("limits: clean exit, no sanitizer report", st == 0 and "AddressSanitizer" not in log
              and "runtime error:" not in log, log[-2000:])
    finally:
        ld.stop()


# ---- wsman-trace -----------------------------------------------------------------------

def trace_checks(d, tdir, admin):
    """The recording of --wsman-trace: one request and one response file per
    exchange whose body was read, 0600, credentials removed, bodies exact."""
    marker, mid = envelope(A_ENUM, WMI + "Win32_Share", body=enum_body())
    status, headers, body = raw(d.wsman_https, marker, user=ADMIN, pw=ADMIN_PW, what="traced")
    check("trace: the marked request answered", status == 200, body[:500])
    time.sleep(0.2)
    files = sorted(os.listdir(tdir))
    reqs = [f for f in files if f.endswith("-request.http")]
    resps = [f for f in files if f.endswith("-response.http")]
    check("trace: exchanges recorded in pairs (%d requests)" % len(reqs),
          len(reqs) > 20 and [f[:-len("request.http")] for f in reqs]
          == [f[:-len("response.http")] for f in resps], files[:10])
    modes = {oct(os.stat(os.path.join(tdir, f)).st_mode & 0o777) for f in files}
    check("trace: every file is mode 0600", modes == {"0o600"}, modes)
    secrets = [base64.b64encode(("%s:%s" % (u, p)).encode()) for u, p in
               ((ADMIN, ADMIN_PW), (USER, USER_PW))] + [ADMIN_PW.encode(), USER_PW.encode()]
    leaked = []
    found = None
    for f in files:
        with open(os.path.join(tdir, f), "rb") as fh:
            data = fh.read()
        if any(x in data for x in secrets):
            leaked.append(f)
        if f.endswith("-request.http") and mid.encode() in data:
            found = f
    check("trace: no password and no Basic credentials in any file", not leaked, leaked)
    if not check("trace: the marked request is recorded", found is not None, files[-4:]):
        return
    with open(os.path.join(tdir, found), "rb") as fh:
        req = fh.read()
    head, _, rbody = req.partition(b"\r\n\r\n")
    check("trace: request line, headers, then the body exactly as sent",
          head.startswith(b"POST /wsman HTTP/1.1\r\n") and rbody == marker.encode()
          and b"Authorization: Basic (credentials removed by smbcimd)" in head
          and b"X-Smbcimd-User: " + ADMIN.encode() in head
          and b"Content-Type: application/soap+xml" in head, head.decode(errors="replace"))
    with open(os.path.join(tdir, found.replace("-request.http", "-response.http")), "rb") as fh:
        resp = fh.read()
    rhead, _, rb = resp.partition(b"\r\n\r\n")
    check("trace: the response recorded is the one received",
          rhead.startswith(b"HTTP/1.1 200 OK\r\n") and rb == body
          and b"Content-Length: %d" % len(body) in rhead, rhead.decode(errors="replace"))
    # an unauthenticated request that is read (it may be an Identify) and refused
    st, _, _ = raw(d.wsman_https, marker.replace(mid, mid[:-4] + "0000"), what="anon traced")
    time.sleep(0.2)
    got = None
    for f in sorted(os.listdir(tdir)):
        if f.endswith("-response.http"):
            with open(os.path.join(tdir, f), "rb") as fh:
                got = fh.read()
    p = sh(SMBCIMD, "--check-config", "--config", "/dev/null", "--snapshot", FS01,
           "--https", "none", "--http", "none", "--wsman-http", "127.0.0.1:1",
           "--allow-plain-http", "--wsman-trace", os.path.join(tdir, "missing"))
    check("trace: a trace directory that does not exist fails the start (--check-config: "
          "exit 2, named)", p.returncode != 0 and "wsman-trace" in p.stderr
          and "missing" in p.stderr, (p.returncode, p.stderr))
    rootonly = os.path.join(os.path.dirname(tdir), "trace-root")
    os.mkdir(rootonly, 0o700)
    p = sh(SMBCIMD, "--check-config", "--config", "/dev/null", "--snapshot", FS01,
           "--https", "none", "--http", "none", "--wsman-http", "127.0.0.1:1",
           "--allow-plain-http", "--wsman-trace", rootonly)
    check("trace: a directory only root may write: refused, naming the worker's user",
          p.returncode == 1 and "the WS-Man trace directory %s is not writable by the user "
          "'%s'" % (rootonly, WORKER_USER) in p.stderr, (p.returncode, p.stderr))
    check("trace: a refused unauthenticated request recorded with its 401 challenge",
          st == 401 and got is not None and got.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
          and b'WWW-Authenticate: Basic realm="WSMAN"' in got, got and got[:300])


def main():
    if os.geteuid() != 0:
        print("run_wsman_e2e: must run as root (users, PAM)")
        print("0 passed, 1 failed")
        return 1
    for var in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(var, None)  # else pywinrm verifies despite 'ignore'
    os.environ["NO_PROXY"] = ",".join(x for x in (os.environ.get("NO_PROXY"), "127.0.0.1") if x)
    import importlib.util
    if importlib.util.find_spec("winrm") is None:
        check("python3-winrm installed (apt-get install python3-winrm)", False)
        return T.summary()
    for tool in ("openssl", SMBCIMD, SMBCIM):
        if not shutil.which(tool):
            check("%s present" % tool, False)
            return T.summary()
    tmp = tempfile.mkdtemp(prefix="smbcim-wsman-e2e.")
    os.chmod(tmp, 0o755)
    accounts = TempAccounts(GECOS)
    d = None
    try:
        open(os.path.join(tmp, "empty.conf"), "w").close()
        p = self_signed_cert(tmp)
        check("setup: self-signed certificate", p.returncode == 0, p.stderr)
        accounts.pam_service()
        accounts.group(GROUP)
        accounts.user(ADMIN, ADMIN_PW, [GROUP])
        accounts.user(USER, USER_PW)
        check("setup: users %s (admin) and %s" % (ADMIN, USER), True)

        tdir = os.path.join(tmp, "trace")
        os.mkdir(tdir, 0o700)
        shutil.chown(tdir, user=WORKER_USER)  # the worker writes the files
        d = Daemon(tmp, ["--snapshot", FS01, "--wsman-trace", tdir], "wsman")
        if not check("setup: smbcimd started (wsman-https 127.0.0.1:%d, wsman-http %d)"
                     % (d.wsman_https, d.wsman_http), d.proc.poll() is None, d.logtext()):
            return T.summary()
        admin = Client(d.wsman_https, ADMIN, ADMIN_PW)
        user = Client(d.wsman_https, USER, USER_PW)
        first_cs = None
        for step, fn in (("golden exchanges", lambda: golden(d)),
                         ("Identify and authentication", lambda: identify_and_auth(d, admin)),
                         ("enumerations", None),
                         ("pulls", lambda: pulls(admin, user)),
                         ("batches", lambda: batches(admin)),
                         ("WQL", lambda: queries(admin)),
                         ("association filters", lambda: associations(admin)),
                         ("gets", None),
                         ("authorization", lambda: authorization(user)),
                         ("plain HTTP", lambda: plain_http(d)),
                         ("protocol faults", lambda: protocol_faults(d, admin)),
                         ("fault reading", lambda: winrm_reads_faults(admin)),
                         ("wrong passwords", lambda: wrong_password(d)),
                         ("limits", lambda: limits(tmp, admin, user)),
                         ("wsman-trace", lambda: trace_checks(d, tdir, admin))):
            try:
                if step == "enumerations":
                    first_cs = enumerate_classes(admin, d)
                elif step == "gets":
                    gets(admin, first_cs)
                else:
                    fn()
            except Exception as e:  # noqa: BLE001 - one step's error, not the run's
                import traceback
                check("%s: no unexpected error" % step, False,
                      "%s: %s\n%s" % (type(e).__name__, e, traceback.format_exc()[-1500:]))
            if not check("smbcimd still running after the %s" % step, d.proc.poll() is None,
                         d.logtext()[-3000:]):
                break
        ledger_checks()
        log = d.logtext()
        check("smbcimd log has no AddressSanitizer/sanitizer report",
              "AddressSanitizer" not in log and "runtime error:" not in log, log[-3000:])
        rc = d.stop()
        check("SIGTERM: clean exit (status 0)", rc == 0, (rc, d.logtext()[-1000:]))
    except Exception as e:  # noqa: BLE001
        import traceback
        check("unexpected error", False, "%s: %s\n%s" % (type(e).__name__, e,
                                                         traceback.format_exc()[-2000:]))
    finally:
        if d is not None:
            d.stop()
        accounts.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    return T.summary()


if __name__ == "__main__":
    sys.exit(main())
