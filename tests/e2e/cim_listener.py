#!/usr/bin/python3
"""cim_listener.py - a CIM-XML indication listener for the end-to-end tests.

smbcimd delivers indications as CIM-XML ExportIndication requests (DSP0200
"CIM export", DSP0201 encoding).  Listener takes them over HTTP(S), records
each request with what is wrong with it (headers, XML content model, typed
values, embedded instances) and answers as its mode says.  Standard library
only; SMBCIM_CIM_DTD=<DSP0203 DTD file> adds an `xmllint --dtdvalid` check.

    with Listener(port=0) as l:    # tls=(certfile, keyfile) for https
        ...; l.wait_for(1, 10)[0]["indication"]["props"]
CLI: cim_listener.py --port 0 --record FILE.jsonl [--tls CERT KEY] [--fail-status N]
     (prints "listening on URL");  cim_listener.py --selftest
"""
import argparse, http.client, http.server, json, os, re, shutil, signal, socket  # noqa: E401
import socketserver, ssl, subprocess, sys, tempfile, threading, time  # noqa: E401
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

MAX_BODY = 16 << 20      # bytes of a request body accepted at most
MAX_NESTING = 4          # embedded instances within embedded instances
MODES = ("ok", "error", "http500", "hang", "close")   # and "http<NNN>" generally

# ---- the content model -------------------------------------------------------
# element -> (required attributes, children): children is a regular expression
# over the child element names, each followed by a space; TEXT: character
# data only; "": empty.  Only what an ExportIndication request can hold.
TEXT = None
_PROPS = r"(QUALIFIER )*((PROPERTY|PROPERTY\.ARRAY|PROPERTY\.REFERENCE) )*"
MODEL = {
    "CIM": (("CIMVERSION", "DTDVERSION"), r"MESSAGE "),
    "MESSAGE": (("ID", "PROTOCOLVERSION"), r"SIMPLEEXPREQ "),
    "SIMPLEEXPREQ": ((), r"(CORRELATOR )*EXPMETHODCALL "),
    "CORRELATOR": (("NAME", "TYPE"), r"VALUE "),
    "EXPMETHODCALL": (("NAME",), r"(EXPPARAMVALUE )*"),
    "EXPPARAMVALUE": (("NAME",), r"(INSTANCE )?"),
    "INSTANCE": (("CLASSNAME",), _PROPS),
    "QUALIFIER": (("NAME", "TYPE"), r"((VALUE|VALUE\.ARRAY) )?"),
    "PROPERTY": (("NAME", "TYPE"), r"(QUALIFIER )*(VALUE )?"),
    "PROPERTY.ARRAY": (("NAME", "TYPE"), r"(QUALIFIER )*(VALUE\.ARRAY )?"),
    "PROPERTY.REFERENCE": (("NAME",), r"(QUALIFIER )*(VALUE\.REFERENCE )?"),
    "VALUE": ((), TEXT),
    "VALUE.ARRAY": ((), r"((VALUE|VALUE\.NULL) )*"),
    "VALUE.NULL": ((), ""),
    "VALUE.REFERENCE": ((), r"(CLASSNAME|INSTANCEPATH|LOCALINSTANCEPATH|INSTANCENAME) "),
    "INSTANCEPATH": ((), r"NAMESPACEPATH INSTANCENAME "),
    "LOCALINSTANCEPATH": ((), r"LOCALNAMESPACEPATH INSTANCENAME "),
    "NAMESPACEPATH": ((), r"HOST LOCALNAMESPACEPATH "),
    "HOST": ((), TEXT),
    "LOCALNAMESPACEPATH": ((), r"(NAMESPACE )+"),
    "NAMESPACE": (("NAME",), ""),
    "INSTANCENAME": (("CLASSNAME",), r"(KEYBINDING )*|KEYVALUE |VALUE\.REFERENCE "),
    "KEYBINDING": (("NAME",), r"(KEYVALUE|VALUE\.REFERENCE) "),
    "KEYVALUE": ((), TEXT),
    "CLASSNAME": (("NAME",), ""),
}
INT_RANGES = {"uint%d" % b: (0, (1 << b) - 1) for b in (8, 16, 32, 64)}
INT_RANGES.update({"sint%d" % b: (-(1 << (b - 1)), (1 << (b - 1)) - 1) for b in (8, 16, 32, 64)})
CIM_TYPES = set(INT_RANGES) | {"boolean", "string", "char16", "datetime", "real32", "real64"}
_DOCTYPE = re.compile(r"<!(DOCTYPE|ENTITY)", re.I)
_REAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?INF|NaN")
_D = r"[\d*]"   # DSP0004 lets '*' stand for insignificant digits
_STAMP = re.compile(r"%s{4}(%s{2})(%s{2})(%s{2})(%s{2})(%s{2})\.%s{6}[+-]%s{3}" % ((_D,) * 8))
_INTERVAL = re.compile(r"%s{8}(%s{2})(%s{2})(%s{2})\.%s{6}:000" % ((_D,) * 5))


def check_tree(el, problems, where="", depth=0):
    """Appends to problems how el and its descendants break MODEL."""
    here = "%s/%s" % (where, el.tag) + ("[%s]" % el.get("NAME") if el.get("NAME") else "")
    rule = MODEL.get(el.tag)
    if rule is None or depth > 64:
        return problems.append("%s: element not expected here" % here)
    required, children = rule
    problems.extend("%s: attribute %s missing" % (here, a) for a in required if a not in el.attrib)
    if "TYPE" in el.attrib and el.get("TYPE") not in CIM_TYPES:
        problems.append("%s: TYPE %r is not a CIM type" % (here, el.get("TYPE")))
    names = "".join(c.tag + " " for c in el)
    if children is TEXT and len(el):
        problems.append("%s: only text allowed, found elements %s" % (here, names.strip()))
    elif children is not TEXT:
        if not re.fullmatch(children, names):
            problems.append("%s: children [%s] do not fit (%s)" % (here, names.strip(), children))
        if (el.text or "").strip() or any((c.tail or "").strip() for c in el):
            problems.append("%s: text not allowed here" % here)
    for c in el:
        check_tree(c, problems, here, depth + 1)


def parse_value(cimtype, text):
    """The Python value of a VALUE's text for a CIM type; ValueError if bad.
    Integers -> int, boolean -> bool, reals -> float, the rest stay str."""
    t = text.strip()
    if cimtype in INT_RANGES:
        if not re.fullmatch(r"[+-]?(\d+|0[xX][0-9a-fA-F]+)", t):
            raise ValueError("%r is not an integer" % text)
        v, (lo, hi) = int(t, 0 if "x" in t.lower() else 10), INT_RANGES[cimtype]
        if not lo <= v <= hi:
            raise ValueError("%s is out of range for %s" % (t, cimtype))
        return v
    if cimtype == "boolean":
        if t.lower() not in ("true", "false"):
            raise ValueError("%r is not TRUE or FALSE" % text)
        return t.lower() == "true"
    if cimtype in ("real32", "real64"):
        if not _REAL.fullmatch(t):
            raise ValueError("%r is not a real number" % text)
        return float(t)
    if cimtype == "char16" and len(text) != 1:
        raise ValueError("%r is not one character" % text)
    if cimtype == "datetime":
        m, limits = _STAMP.fullmatch(text), [(1, 12), (1, 31), (0, 23), (0, 59), (0, 59)]
        if not m:
            m, limits = _INTERVAL.fullmatch(text), limits[2:]
        if not m:
            raise ValueError("%r is not a datetime (yyyymmddhhmmss.mmmmmmsutc "
                             "or ddddddddhhmmss.mmmmmm:000)" % text)
        for g, (lo, hi) in zip(m.groups(), limits):   # month .. second, or hour .. second
            if g.isdigit() and not lo <= int(g) <= hi:
                raise ValueError("%r: field %s out of range" % (text, g))
    return text


def xmllint(data):
    """Complaints of `xmllint --dtdvalid $SMBCIM_CIM_DTD` about data (str or
    bytes); [] when that DTD or xmllint is missing."""
    dtd = os.environ.get("SMBCIM_CIM_DTD")
    if not dtd or not os.access(dtd, os.R_OK) or not shutil.which("xmllint"):
        return []
    r = subprocess.run(["xmllint", "--noout", "--nonet", "--dtdvalid", dtd, "-"], timeout=60,
                       input=data.encode() if isinstance(data, str) else data, capture_output=True)
    lines = [ln for ln in r.stderr.decode(errors="replace").splitlines()
             if ln.startswith("-:") or "does not validate" in ln]   # not the excerpt lines
    return [] if r.returncode == 0 else (["xmllint: " + ln for ln in lines[:10]]
                                         or ["xmllint: exit status %d" % r.returncode])


def parse_embedded(text, where, problems, depth):
    """The decoded form of an embedded INSTANCE document (None if bad)."""
    n = len(problems)
    if depth > MAX_NESTING:
        problems.append("%s: embedded instances nested deeper than %d" % (where, MAX_NESTING))
    elif _DOCTYPE.search(text):
        problems.append("%s: embedded document has a DOCTYPE/ENTITY (refused)" % where)
    else:
        try:
            root = ET.fromstring(text)
        except ET.ParseError as e:
            return problems.append("%s: embedded object is not XML: %s" % (where, e))
        if root.tag != "INSTANCE":
            problems.append("%s: embedded object is a %s, INSTANCE expected" % (where, root.tag))
        else:
            check_tree(root, problems, where)
            problems.extend("%s: %s" % (where, p) for p in xmllint(text))
    return decode_instance(root, problems, depth, where) if len(problems) == n else None


def decode_instance(inst, problems, depth=0, where=""):
    """{"class", "props", "embedded"} of a checked INSTANCE; bad values go to
    problems (and their raw text to props)."""
    out = {"class": inst.get("CLASSNAME"), "props": {}, "embedded": {}}
    where = "%s%s" % (where + "/" if where else "", out["class"])

    def typed(t, text, here):
        try:
            return parse_value(t, text)
        except ValueError as e:
            problems.append("%s: %s" % (here, e))
            return text

    for p in (p for p in inst if p.tag != "QUALIFIER"):
        name, t = p.get("NAME"), p.get("TYPE", "string")
        here = "%s.%s" % (where, name)
        if name.lower() in (k.lower() for k in out["props"]):
            problems.append("%s: property given twice" % here)
        v = p.find({"PROPERTY": "VALUE", "PROPERTY.ARRAY": "VALUE.ARRAY"}.get(p.tag, "VALUE.REFERENCE"))
        if v is None:
            value = None
        elif p.tag == "PROPERTY":
            value = typed(t, v.text or "", here)
        elif p.tag == "PROPERTY.ARRAY":
            value = [None if e.tag == "VALUE.NULL" else typed(t, e.text or "", here) for e in v]
        else:   # a reference: the XML text of its target (the path element)
            value = ET.tostring(v[0], encoding="unicode")
        out["props"][name] = value
        emb = p.get("EmbeddedObject", p.get("EMBEDDEDOBJECT"))
        if emb is None or value is None:
            continue
        if emb.lower() not in ("instance", "object") or t != "string":
            problems.append("%s: EmbeddedObject=%r on a %s property" % (here, emb, t))
        elif isinstance(value, list):
            out["embedded"][name] = [parse_embedded(x, here, problems, depth + 1)
                                     for x in value if x is not None]
        else:
            out["embedded"][name] = parse_embedded(value, here, problems, depth + 1)
    return out


def validate_request(method, headers, body):
    """(problems, indication or None) of one request; headers: {lowercase name: value}."""
    problems = [] if method == "POST" else ["method %s, POST expected" % method]
    ct = headers.get("content-type", "")
    mtype, *params = [s.strip() for s in ct.split(";")]
    charset = [v.strip('" ').lower() for k, _, v in (x.partition("=") for x in params)
               if k.strip().lower() == "charset"]
    if mtype.lower() not in ("application/xml", "text/xml") or charset != ["utf-8"]:
        problems.append("Content-Type %r, application/xml or text/xml; charset=utf-8 expected" % ct)
    for name, want in (("CIMExport", "MethodRequest"), ("CIMExportMethod", "ExportIndication"),
                       ("CIMProtocolVersion", "1.0")):
        if (headers.get(name.lower()) or "").strip() != want:
            problems.append("header %s: %r, %r expected" % (name, headers.get(name.lower()), want))
    try:
        if _DOCTYPE.search(body.decode("utf-8")):
            return problems + ["body has a DOCTYPE/ENTITY declaration (refused)"], None
        root = ET.fromstring(body)
    except UnicodeDecodeError as e:
        return problems + ["body is not UTF-8: %s" % e], None
    except ET.ParseError as e:
        return problems + ["body is not XML: %s" % e], None
    n = len(problems)
    check_tree(root, problems)
    problems.extend(xmllint(body))
    if len(problems) > n:   # the content model is broken: do not look further
        return problems, None
    msg, call = root[0], root[0][0][-1]
    for el, attr, prefix in ((root, "CIMVERSION", "2."), (root, "DTDVERSION", "2."),
                             (msg, "PROTOCOLVERSION", "1.")):
        if not el.get(attr).startswith(prefix):
            problems.append("%s %s=%r, %s* expected" % (el.tag, attr, el.get(attr), prefix))
    if call.get("NAME").lower() != "exportindication":
        problems.append("EXPMETHODCALL NAME=%r, ExportIndication expected" % call.get("NAME"))
    params = list(call)
    if len(params) != 1 or params[0].get("NAME").lower() != "newindication" or not len(params[0]):
        return problems + ["EXPMETHODCALL: one EXPPARAMVALUE NewIndication with an INSTANCE "
                           "expected, found %s" % [p.get("NAME") for p in params]], None
    ind = decode_instance(params[0][0], problems)
    ind["message_id"] = msg.get("ID")
    return problems, (None if problems else ind)


def cim_response(msg_id, error=False):
    """Body of an ExportIndication answer: success, or CIM error 1."""
    inner = ('<ERROR CODE="1" DESCRIPTION="listener told to fail"/>' if error
             else "<IRETURNVALUE></IRETURNVALUE>")
    return ('<?xml version="1.0" encoding="utf-8"?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
            '<MESSAGE ID="%s" PROTOCOLVERSION="1.0"><SIMPLEEXPRSP>'
            '<EXPMETHODRESPONSE NAME="ExportIndication">%s</EXPMETHODRESPONSE>'
            '</SIMPLEEXPRSP></MESSAGE></CIM>' % (escape(msg_id, {'"': "&quot;"}), inner)).encode()


# ---- the HTTP side -------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive
    timeout = 120                   # an idle kept-alive connection ends after this
    server_version = "smbcim-test-listener/1"

    def log_message(self, fmt, *args):   # quiet
        pass

    def _reply(self, status, body=b"", ctype="text/plain; charset=utf-8", extra=()):
        self.send_response(status)
        for k, v in [("Content-Type", ctype), ("Content-Length", str(len(body)))] + list(extra):
            self.send_header(k, v)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self, problems):
        """(body, None), or (what was read, HTTP status) when it cannot be framed."""
        te, cl = self.headers.get("Transfer-Encoding"), self.headers.get("Content-Length")
        if te or (cl is not None and not cl.strip().isdigit()):
            problems.append("Transfer-Encoding %r / Content-Length %r: cannot read" % (te, cl))
            return b"", 411 if te else 400
        if cl is None and self.command == "POST":
            problems.append("no Content-Length header")
        if int(cl or 0) > MAX_BODY:
            problems.append("body of %s bytes refused (at most %d)" % (cl, MAX_BODY))
            return b"", 413
        data = self.rfile.read(int(cl or 0))   # exactly Content-Length bytes
        if len(data) < int(cl or 0):
            problems.append("body ended after %d of %s bytes" % (len(data), cl))
            return data, 400
        return data, None

    def _serve(self):
        L = self.server.listener
        rec = {"time": time.time(), "method": self.command, "path": self.path, "headers": {},
               "body": "", "valid": False, "problems": [], "indication": None}
        for k, v in self.headers.items():   # a repeated header: its values joined
            rec["headers"][k] = rec["headers"][k] + ", " + v if k in rec["headers"] else v
        body, fatal = self._read_body(rec["problems"])
        rec["body"] = body.decode("utf-8", errors="replace")
        if fatal is None:
            lower = {k.lower(): v for k, v in rec["headers"].items()}
            probs, rec["indication"] = validate_request(self.command, lower, body)
            rec["problems"] += probs
        rec["valid"] = not rec["problems"]
        L._record(rec)
        mode = L.mode
        if fatal is not None:
            self.close_connection = True
            return self._reply(fatal, ("\n".join(rec["problems"]) + "\n").encode())
        if mode == "close" or (mode == "hang" and L._stopping.wait(L.hang_seconds)):
            self.close_connection = True   # no answer at all
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        if mode.startswith("http"):
            return self._reply(int(mode[4:]), b"listener told to fail\n")
        if not rec["valid"]:
            return self._reply(400, ("\n".join(rec["problems"]) + "\n").encode(),
                               extra=[("CIMError", "request-not-valid")])
        return self._reply(200, cim_response(rec["indication"]["message_id"], mode == "error"),
                           'application/xml; charset="utf-8"', [("CIMExport", "MethodResponse")])

    do_POST = do_GET = do_PUT = do_DELETE = do_OPTIONS = _serve   # others recorded as invalid


setattr(_Handler, "do_M-POST", _Handler._serve)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self):   # without HTTPServer's reverse DNS look-up
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):   # open connections, for stop()
        with self.listener._lock:
            self.listener._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.listener._lock:
            self.listener._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):   # quiet, e.g. a failed TLS handshake
        pass


class Listener:
    """A CIM-XML indication listener serving in a background thread."""

    def __init__(self, host="127.0.0.1", port=0, tls=None, record=None):
        self.host, self.port, self.tls = host, port, tls
        self.url = None
        self.received = []           # one dict per request, in arrival order
        self.mode = "ok"
        self.hang_seconds = 30.0     # how long mode "hang" waits before answering
        self.record = record         # a file: one JSON line appended per request
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._conns, self._stopping, self._server = set(), threading.Event(), None

    def start(self):
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.listener = self
        if self.tls:   # the handshake happens in the handler thread, not in accept()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
        self.port = self._server.server_address[1]
        self.url = "%s://%s:%d/" % ("https" if self.tls else "http", self.host, self.port)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def set_mode(self, mode):
        """ok | error (CIM error 1) | http500 (any http<NNN>) | hang | close.
        close, hang and http<NNN> apply to every request; in ok and error an
        invalid request is answered 400 (error only changes the success)."""
        if mode not in MODES and not re.fullmatch(r"http\d{3}", mode):
            raise ValueError("mode %r: one of %s or http<NNN>" % (mode, ", ".join(MODES)))
        self.mode = mode

    def _record(self, rec):
        with self._cond:
            self.received.append(rec)
            if self.record:
                with open(self.record, "a", encoding="utf-8") as f:
                    f.write(json.dumps(rec) + "\n")
            self._cond.notify_all()

    def wait_for(self, n, timeout=10.0):
        """The received list once it holds n requests; TimeoutError if not in time."""
        with self._cond:
            if self._cond.wait_for(lambda: len(self.received) >= n, timeout):
                return self.received
            got = ["\n  #%d %s %s %s" % (i + 1, r["method"], (r["indication"] or {}).get("class", ""),
                                         "valid" if r["valid"] else "INVALID %s" % r["problems"][:3])
                   for i, r in enumerate(self.received)]
        raise TimeoutError("listener %s: waited %.1f s for %d request(s), got %d%s"
                           % (self.url, timeout, n, len(got), "".join(got)))

    def stop(self):
        """Stops serving and drops the open (kept-alive, hanging) connections."""
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            with self._lock:
                conns = list(self._conns)
            for c in conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start() if self._server is None else self

    def __exit__(self, *exc):
        self.stop()


# ---- self-test -----------------------------------------------------------------
_EMBEDDED = ('<INSTANCE CLASSNAME="Win32_ServerConnection">'
             '<PROPERTY NAME="ConnectionID" TYPE="uint32"><VALUE>{cid}</VALUE></PROPERTY>'
             '<PROPERTY NAME="ShareName" TYPE="string"><VALUE>public</VALUE></PROPERTY>'
             '<PROPERTY NAME="UserName" TYPE="string"><VALUE>CORP\\alice</VALUE></PROPERTY></INSTANCE>')
_SAMPLE = ('<?xml version="1.0" encoding="utf-8"?>\n<CIM CIMVERSION="2.0" DTDVERSION="2.4">'
           '<MESSAGE ID="{id}" PROTOCOLVERSION="1.0"><SIMPLEEXPREQ><EXPMETHODCALL NAME="ExportIndication">'
           '<EXPPARAMVALUE NAME="NewIndication"><INSTANCE CLASSNAME="CIM_InstCreation">'
           '<PROPERTY NAME="IndicationTime" TYPE="datetime"><VALUE>20250314150926.535897+060</VALUE></PROPERTY>'
           '<PROPERTY NAME="IndicationFilterName" TYPE="string"><VALUE>smb-sessions</VALUE></PROPERTY>'
           '<PROPERTY NAME="SourceInstanceHost" TYPE="string"><VALUE>fs1.example.org</VALUE></PROPERTY>'
           '<PROPERTY NAME="SequenceNumber" TYPE="sint64"><VALUE>-7</VALUE></PROPERTY>'
           '<PROPERTY NAME="OtherSeverity" TYPE="string"></PROPERTY>'
           '<PROPERTY.ARRAY NAME="CorrelatedIndications" TYPE="string"><VALUE.ARRAY><VALUE>a</VALUE>'
           '<VALUE.NULL/></VALUE.ARRAY></PROPERTY.ARRAY>'
           '<PROPERTY NAME="SourceInstance" TYPE="string" EmbeddedObject="instance"><VALUE>{emb}</VALUE>'
           '</PROPERTY></INSTANCE></EXPPARAMVALUE></EXPMETHODCALL></SIMPLEEXPREQ></MESSAGE></CIM>')
_HEADERS = {"Content-Type": 'application/xml; charset="utf-8"', "CIMProtocolVersion": "1.0",
            "CIMExport": "MethodRequest", "CIMExportMethod": "ExportIndication"}


def _sample(msg_id="1001", cid="42"):
    return _SAMPLE.format(id=msg_id, emb=escape(_EMBEDDED.format(cid=cid)))


def selftest():
    tally = [0, 0]

    def check(name, cond, detail=""):
        tally[not cond] += 1
        print("ok   %s" % name if cond else "FAIL %s -- %s" % (name, detail))

    def post(conn, body, headers=None, method="POST"):   # -> status, header getter, body
        conn.request(method, "/cimlistener", body.encode(), dict(_HEADERS, **(headers or {})))
        r = conn.getresponse()
        return r.status, r.getheader, r.read().decode()

    def refused(conn):   # the request gets no answer
        try:
            post(conn, _sample())
        except (http.client.HTTPException, OSError):
            return True
        return False

    dtd = os.environ.get("SMBCIM_CIM_DTD")
    use_dtd = bool(dtd and os.access(dtd, os.R_OK) and shutil.which("xmllint"))
    print("note: DTD check with xmllint %s" % ("ON (%s)" % dtd if use_dtd else "off"))
    tmp = tempfile.mkdtemp(prefix="cim_listener.")
    with Listener(record=os.path.join(tmp, "rec.jsonl")) as L:
        conn = http.client.HTTPConnection("127.0.0.1", L.port, timeout=10)
        st, hdr, body = post(conn, _sample())
        check("valid request: 200 and the success body", st == 200 and body ==
              cim_response("1001").decode(), (st, body))
        check("response headers", hdr("CIMExport") == "MethodResponse" and
              hdr("Content-Type") == 'application/xml; charset="utf-8"', hdr("Content-Type"))
        r = L.wait_for(1, 5)[0]
        ind, p = r["indication"] or {}, (r["indication"] or {}).get("props", {})
        check("recorded valid" + (" (xmllint too)" if use_dtd else ""), r["valid"] and
              r["path"] == "/cimlistener", r["problems"])
        check("indication decoded", ind.get("class") == "CIM_InstCreation" and ind["message_id"] ==
              "1001" and p["IndicationFilterName"] == "smb-sessions" and p["IndicationTime"] ==
              "20250314150926.535897+060" and p["SequenceNumber"] == -7 and p["OtherSeverity"] is None
              and p["CorrelatedIndications"] == ["a", None] and p["SourceInstanceHost"] ==
              "fs1.example.org", ind)
        emb = ind.get("embedded", {}).get("SourceInstance") or {}
        check("embedded instance decoded", emb.get("class") == "Win32_ServerConnection" and
              emb.get("props") == {"ConnectionID": 42, "ShareName": "public",
                                   "UserName": "CORP\\alice"}, emb)
        sock = conn.sock
        st = post(conn, _sample("1002"))[0]
        check("keep-alive: second request on the same connection", st == 200 and
              sock is not None and conn.sock is sock, st)

        good = _sample()
        for name, b, h, want in [
                ("wrong CIMExportMethod header", good, {"CIMExportMethod": "Export"}, "CIMExportMethod"),
                ("wrong Content-Type", good, {"Content-Type": "text/plain"}, "Content-Type"),
                ("not XML", "<CIM><oops", {}, "not XML"),
                ("two VALUEs in a PROPERTY", good.replace("<VALUE>smb-sessions</VALUE>",
                 "<VALUE>a</VALUE><VALUE>b</VALUE>"), {}, "do not fit"),
                ("VALUE in EXPPARAMVALUE", good.replace('"NewIndication">', '"NewIndication"><VALUE/>'),
                 {}, "do not fit"),
                ("wrong method name", good.replace('NAME="ExportIndication"', 'NAME="ExportX"'), {},
                 "ExportX"),
                ("uint32 out of range (embedded)", _sample(cid="4294967296"), {}, "out of range"),
                ("bad datetime", good.replace("20250314150926.535897+060", "2025-03-14T15:09"), {},
                 "not a datetime"),
                ("DOCTYPE", good.replace("?>\n", '?>\n<!DOCTYPE CIM SYSTEM "cim.dtd">'), {}, "DOCTYPE")]:
            st, hdr, _ = post(conn, b, h)
            r = L.received[-1]
            check("invalid: %s -> 400, recorded" % name, st == 400 and hdr("CIMError") ==
                  "request-not-valid" and not r["valid"] and r["indication"] is None and
                  any(want in x for x in r["problems"]), (st, r["problems"]))
            if use_dtd and name.startswith("two VALUEs"):
                check("DTD: xmllint refuses the wrong structure",
                      any(x.startswith("xmllint") for x in r["problems"]), r["problems"])
        st = post(conn, good, method="GET")[0]
        check("invalid: GET -> 400", st == 400 and "method GET" in L.received[-1]["problems"][0])

        L.set_mode("error")
        st, _, body = post(conn, _sample("2001"))
        check("mode error: 200 with CIM ERROR 1", st == 200 and '<ERROR CODE="1"' in body and
              'ID="2001"' in body, (st, body))
        L.set_mode("http500")
        check("mode http500: HTTP 500", post(conn, good)[0] == 500)
        L.set_mode("hang")
        L.hang_seconds, t0 = 0.5, time.monotonic()
        check("mode hang: answers late", post(conn, good)[0] == 200 and time.monotonic() - t0 >= 0.5)
        L.set_mode("close")
        n = len(L.received)
        check("mode close: connection closed, no answer", refused(conn) and len(L.received) == n + 1)
        L.set_mode("ok")
        try:
            L.wait_for(len(L.received) + 1, 0.2)
            check("wait_for times out", False, "no TimeoutError")
        except TimeoutError as e:
            check("wait_for times out with a listing", "#1 POST CIM_InstCreation valid" in str(e), e)
        conn = http.client.HTTPConnection("127.0.0.1", L.port, timeout=10)
        post(conn, good)
    check("stopped: kept-alive connection dropped", refused(conn))
    with open(L.record, encoding="utf-8") as f:
        check("record file: one JSON line per request",
              [json.loads(x)["time"] for x in f] == [r["time"] for r in L.received])

    if not shutil.which("openssl"):
        print("note: openssl not found, TLS part skipped")
    else:   # subjectAltName so that the client can check the name 127.0.0.1
        cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        with Listener(tls=(cert, key)) as L:
            ctx = ssl.create_default_context(cafile=cert)
            conn = http.client.HTTPSConnection("127.0.0.1", L.port, timeout=10, context=ctx)
            (st, _, body), st2 = post(conn, _sample("3001")), post(conn, _sample("3002"))[0]
            check("TLS: two requests answered 200 on one connection", st == 200 and st2 == 200
                  and L.url.startswith("https://") and 'ID="3001"' in body, (st, st2, body))
            check("TLS: recorded valid", [r["valid"] for r in L.wait_for(2, 5)] == [True] * 2)
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d passed, %d failed" % tuple(tally))
    return 1 if tally[1] else 0


def main():
    ap = argparse.ArgumentParser(description="CIM-XML indication listener for smbcim's tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--record", metavar="FILE.jsonl", help="append one JSON line per request")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--mode", default="ok", help="|".join(MODES) + "|http<NNN>")
    ap.add_argument("--fail-status", type=int, metavar="N", help="answer every request HTTP N")
    ap.add_argument("--hang-seconds", type=float, default=30.0)
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args()
    if a.selftest:
        return selftest()
    L = Listener(a.host, a.port, tuple(a.tls) if a.tls else None, a.record)
    L.set_mode("http%d" % a.fail_status if a.fail_status else a.mode)
    L.hang_seconds = a.hang_seconds
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print("listening on %s" % L.start().url, flush=True)
    try:
        while not done.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    L.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
