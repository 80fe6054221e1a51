#!/usr/bin/python3
"""smbcimd under load, next to nginx serving the same bytes.

    /usr/bin/python3 bench/server.py [--seconds 60] [--connections 50]
                                     [--protocol cimxml|wsman]      (as root)

Serves a snapshot with 100 Win32_ConnectionShare instances (50 clients, 2
shares each) with smbcimd on 127.0.0.1 (plain HTTP, Basic auth through PAM
for a user the script creates), and drives EnumerateInstances of
Win32_ConnectionShare with wrk (keep-alive, the given connections, 2
threads, a Lua script that POSTs the CIM-XML request).  Then nginx serves
the identical response body as a static file to the identical POST, with
the same wrk settings.  Prints requests/s, latency percentiles, errors and
smbcimd's memory (VmRSS every second: first, peak, last).  Nothing is
asserted; the figures go to the closing note.

--protocol wsman measures WS-Management instead (docs/wsman.md): smbcimd
gets only a WS-Man listener (--wsman-http, POST /wsman, Content-Type
application/soap+xml;charset=UTF-8, the same Basic auth; and
--max-enumerations-per-user 2 x connections, since the one user's
connections each hold an open context between Enumerate and Pull and the
default 32 would answer w:QuotaLimit past 32 connections), and the unit of
work is a pair: an Enumerate of
http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_ConnectionShare
with w:OptimizeEnumeration and w:MaxElements 50 (the answer carries 50
items and an n:EnumerationContext), then a Pull of that context with
n:MaxElements 50 (the other 50 and n:EndOfSequence).  The wrk Lua script
alternates per thread: response() takes the context out of each
EnumerateResponse and queues it, request() sends a Pull for a queued
context, else an Enumerate (a fresh MessageID each time).  response() also
checks every answer (an Enumerate: HTTP 200, 50 items, a context, no
EndOfSequence; a Pull: HTTP 200, 50 items, EndOfSequence; the items are
counted once per answer length, as counting each 50 KB answer would slow
wrk down), counts SOAP faults by subcode and other answers by HTTP
status; done() prints the counts.  nginx then serves one real
Enumerate answer and one real Pull answer of smbcimd (captured before the
run) as two static files, /wsman-enum and /wsman-pull, to the same script
with those paths (the captured context is in the Enumerate bytes, so the
script alternates the same way).  Prints requests/s (both kinds, as wrk
counts them), pairs/s (requests/s / 2), latency percentiles (both kinds
together), errors, smbcimd's memory, the ratio to nginx and the issue's
targets next to the figures (>= 0.5x nginx's requests/s, p99 < 20 ms at
50 connections, flat memory); again nothing is asserted.

SMBCIM_BUILD names the build directory (default build/); SMBCIM_BENCH_KEEP=1
keeps the temporary directory (smbcimd's log, the captured answers, the
wrk scripts).
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
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import ensure_worker_user, free_port, worker_pid  # noqa: E402
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

# WS-Management (--protocol wsman): the two requests in the shape of
# tests/e2e/run_wsman_e2e.py (Windows' client), @MSGID@ and @CTX@ filled in
# by the Lua script per request.
WS_NS = ('xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
         'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
         'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
         'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
         'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"')
WS_URI = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_ConnectionShare"
WS_CT = "application/soap+xml;charset=UTF-8"
WS_BATCH = 50


def ws_envelope(action, body):
    return ('<s:Envelope %s><s:Header><a:To>http://127.0.0.1/wsman</a:To>'
            '<w:ResourceURI s:mustUnderstand="true">%s</w:ResourceURI>'
            '<a:ReplyTo><a:Address s:mustUnderstand="true">'
            'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>'
            '</a:ReplyTo>'
            '<a:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/enumeration/%s'
            '</a:Action><w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize>'
            '<a:MessageID>@MSGID@</a:MessageID>'
            '<w:Locale xml:lang="en-US" s:mustUnderstand="false" />'
            '<p:DataLocale xml:lang="en-US" s:mustUnderstand="false" />'
            '<p:SessionId s:mustUnderstand="false">uuid:4F5AC357-8435-40D7-8850-837FB54905B5'
            '</p:SessionId><p:OperationID s:mustUnderstand="false">'
            'uuid:0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9</p:OperationID>'
            '<p:SequenceId s:mustUnderstand="false">1</p:SequenceId>'
            '<w:OperationTimeout>PT60.000S</w:OperationTimeout>'
            '</s:Header><s:Body>%s</s:Body></s:Envelope>' % (WS_NS, WS_URI, action, body))


WS_ENUM = ws_envelope("Enumerate", "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>%d"
                      "</w:MaxElements></n:Enumerate>" % WS_BATCH)
WS_PULL = ws_envelope("Pull", "<n:Pull><n:EnumerationContext>@CTX@</n:EnumerationContext>"
                      "<n:MaxElements>%d</n:MaxElements></n:Pull>" % WS_BATCH)

# The wrk script for --protocol wsman; @NAME@ are filled in by Python (as
# Lua string literals).  Each thread has its own queue of contexts.
WS_LUA = r"""-- bench/server.py --protocol wsman: Enumerate + Pull pairs
local ENUM_PATH, PULL_PATH = @ENUM_PATH@, @PULL_PATH@
local ENUM_A, ENUM_B = @ENUM_A@, @ENUM_B@
local PULL_A, PULL_B, PULL_C = @PULL_A@, @PULL_B@, @PULL_C@
local HEADERS = {["Content-Type"] = @CT@, ["Authorization"] = @AUTH@}
local ITEM = "<p:Win32_ConnectionShare "
local BATCH = @BATCH@
local threads = {}
tid, sent = 0, 0
queue, qhead, qtail = {}, 1, 0
enum_ok, enum_bad, pull_ok, pull_bad, faults, other = 0, 0, 0, 0, 0, 0
fault_kinds, other_kinds = {}, {}
first_bad = ""

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end

local function msgid()
  sent = sent + 1
  return string.format("uuid:%08X-0000-4000-8000-%012X", tid, sent)
end

function request()
  if qhead <= qtail then
    local ctx = queue[qhead]
    queue[qhead] = nil
    qhead = qhead + 1
    return wrk.format("POST", PULL_PATH, HEADERS, PULL_A .. msgid() .. PULL_B .. ctx .. PULL_C)
  end
  return wrk.format("POST", ENUM_PATH, HEADERS, ENUM_A .. msgid() .. ENUM_B)
end

-- the items of an answer; counting every 50 KB answer costs wrk ~13% of
-- nginx's rate on 2 cores, so an answer of the same kind and length as one
-- already counted right is taken as right (the data do not change)
local counted = {}
local function items(kind, body)
  if counted[kind] == #body then return BATCH end
  local n, i = 0, 1
  while true do
    local j = string.find(body, ITEM, i, true)
    if not j then break end
    n, i = n + 1, j + #ITEM
  end
  if n == BATCH then counted[kind] = #body end
  return n
end

local function tail_has(body, text)
  return string.find(body, text, math.max(1, #body - 300), true) ~= nil
end

local function note_bad(what, status, body)
  if first_bad == "" then
    first_bad = what .. " HTTP " .. status .. ": " .. string.sub(body, 1, 400):gsub("%s+", " ")
  end
end

function response(status, headers, body)
  if string.find(body, "<n:EnumerateResponse>", 1, true) then
    local ctx = string.match(body, "<n:EnumerationContext>%s*([^<%s]+)%s*</n:EnumerationContext>")
    if ctx then
      qtail = qtail + 1
      queue[qtail] = ctx
    end
    if status == 200 and ctx and not tail_has(body, "EndOfSequence") and
        items("enum", body) == BATCH then
      enum_ok = enum_ok + 1
    else
      enum_bad = enum_bad + 1
      note_bad("EnumerateResponse", status, body)
    end
  elseif string.find(body, "<n:PullResponse>", 1, true) then
    if status == 200 and tail_has(body, "<n:EndOfSequence/>") and
        items("pull", body) == BATCH then
      pull_ok = pull_ok + 1
    else
      pull_bad = pull_bad + 1
      note_bad("PullResponse", status, body)
    end
  elseif string.find(body, ":Fault>", 1, true) then
    faults = faults + 1
    local sub = string.match(body, "<s:Subcode>%s*<s:Value>%s*([^<%s]+)") or "?"
    fault_kinds[sub] = (fault_kinds[sub] or 0) + 1
    note_bad("Fault", status, body)
  else
    other = other + 1
    other_kinds["HTTP-" .. status] = (other_kinds["HTTP-" .. status] or 0) + 1
    note_bad("unrecognised answer", status, body)
  end
end

function done(summary, latency, requests)
  local t = {enum_ok = 0, enum_bad = 0, pull_ok = 0, pull_bad = 0, faults = 0, other = 0}
  local kinds, okinds, bad = {}, {}, ""
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + thread:get(k) end
    for k, v in pairs(thread:get("fault_kinds")) do kinds[k] = (kinds[k] or 0) + v end
    for k, v in pairs(thread:get("other_kinds")) do okinds[k] = (okinds[k] or 0) + v end
    if bad == "" then bad = thread:get("first_bad") end
  end
  io.write(string.format("wsman enumerate: %d ok, %d bad\n", t.enum_ok, t.enum_bad))
  io.write(string.format("wsman pull: %d ok, %d bad\n", t.pull_ok, t.pull_bad))
  io.write(string.format("wsman faults: %d\n", t.faults))
  for k, v in pairs(kinds) do io.write(string.format("wsman fault %s: %d\n", k, v)) end
  io.write(string.format("wsman other: %d\n", t.other))
  for k, v in pairs(okinds) do io.write(string.format("wsman other %s: %d\n", k, v)) end
  if bad ~= "" then io.write("wsman first bad: " .. bad .. "\n") end
end
"""


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
    # what the wsman script's done() prints
    for key, pat in (("enum", r"^wsman enumerate: (\d+) ok, (\d+) bad$"),
                     ("pull", r"^wsman pull: (\d+) ok, (\d+) bad$")):
        m = re.search(pat, out, re.M)
        if m:
            res[key + "_ok"], res[key + "_bad"] = int(m.group(1)), int(m.group(2))
    for key in ("faults", "other"):
        m = re.search(r"^wsman %s: (\d+)$" % key, out, re.M)
        if m:
            res[key] = int(m.group(1))
    for key, word in (("fault_kinds", "fault"), ("other_kinds", "other")):
        res[key] = {k: int(v) for k, v in re.findall(r"^wsman %s (\S+): (\d+)$" % word, out, re.M)}
    m = re.search(r"^wsman first bad: (.*)$", out, re.M)
    res["first_bad"] = m.group(1) if m else None
    return res


def measured(pid, run):
    """run() with smbcimd's VmRSS sampled every second: (its result, the samples)."""
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append(rss_kb(pid))
            time.sleep(1)
    th = threading.Thread(target=sampler)
    th.start()
    try:
        r = run()
    finally:
        stop.set()
        th.join()
    return r, [s for s in samples if s]


def start_nginx(tmp, files, locations, procs):
    """nginx on a free port serving files ({name in tmp/www: file to copy
    there}) with the given location blocks; a POST to a static file is
    answered with the file (its 405 turned into 200 with the file).  Its port."""
    nport = free_port()
    os.makedirs(os.path.join(tmp, "www"), exist_ok=True)
    for name, src in files.items():
        shutil.copy(src, os.path.join(tmp, "www", name))
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
%(l)s  }
}
""" % {"t": tmp, "p": nport, "l": locations})
    ng = subprocess.Popen(["nginx", "-c", conf, "-g", "daemon off;"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(ng)
    time.sleep(0.5)
    return nport


def bench_cimxml(a, tmp, d, port, auth, procs):
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
    r1, samples = measured(worker_pid(d.pid), lambda: wrk("http://127.0.0.1:%d/cimom" % port, lua,
                                              a.seconds, a.connections))
    # nginx, same bytes, same request
    nport = start_nginx(tmp, {"cimom": os.path.join(tmp, "resp.xml")},
                        "    location = /cimom { default_type 'application/xml; "
                        "charset=\"utf-8\"'; error_page 405 =200 $uri; }\n", procs)
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


def ws_post(url, body, auth):
    """POST a WS-Man request with urllib: (HTTP status, body bytes)."""
    req = urllib.request.Request(url, data=body.encode(), method="POST",
                                 headers={"Content-Type": WS_CT, "Authorization": "Basic " + auth})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def ws_lua(path, enum_path, pull_path, auth):
    ea, eb = WS_ENUM.split("@MSGID@")
    pa, rest = WS_PULL.split("@MSGID@")
    pb, pc = rest.split("@CTX@")
    text = WS_LUA
    for k, v in (("ENUM_PATH", enum_path), ("PULL_PATH", pull_path), ("ENUM_A", ea),
                 ("ENUM_B", eb), ("PULL_A", pa), ("PULL_B", pb), ("PULL_C", pc), ("CT", WS_CT),
                 ("AUTH", "Basic " + auth)):
        text = text.replace("@%s@" % k, json.dumps(v))
    text = text.replace("@BATCH@", str(WS_BATCH))
    with open(path, "w") as f:
        f.write(text)
    return path


def ws_context(body):
    m = re.search(rb"<n:EnumerationContext>\s*([^<\s]+)\s*</n:EnumerationContext>", body)
    return m.group(1).decode() if m else None


def ws_items(body):
    return body.count(b"<p:Win32_ConnectionShare ")


def bench_wsman(a, tmp, d, port, auth, procs):
    url = "http://127.0.0.1:%d/wsman" % port
    ids = iter("uuid:00000000-0000-4000-8000-%012X" % i for i in range(1, 100))
    st_e, enum = ws_post(url, WS_ENUM.replace("@MSGID@", next(ids)), auth)
    ctx = ws_context(enum)
    print("Enumerate answer: HTTP %d, %d bytes, %d items, context %s, EndOfSequence %s"
          % (st_e, len(enum), ws_items(enum), ctx, b"EndOfSequence" in enum))
    st_p, pull = ws_post(url, WS_PULL.replace("@MSGID@", next(ids)).replace("@CTX@", ctx or ""),
                         auth)
    print("Pull answer: HTTP %d, %d bytes, %d items, EndOfSequence %s"
          % (st_p, len(pull), ws_items(pull), b"<n:EndOfSequence/>" in pull))
    if st_e != 200 or st_p != 200 or not ctx:
        print("bench/server.py: smbcimd did not answer the Enumerate/Pull pair (see above)",
              file=sys.stderr)
        sys.stderr.write((enum + b"\n" + pull).decode(errors="replace")[:3000] + "\n")
        return 1
    for name, body in (("wsman-enum", enum), ("wsman-pull", pull)):
        with open(os.path.join(tmp, name + ".xml"), "wb") as f:
            f.write(body)
    lua = ws_lua(os.path.join(tmp, "wsman.lua"), "/wsman", "/wsman", auth)
    r1, samples = measured(worker_pid(d.pid), lambda: wrk(url, lua, a.seconds, a.connections))
    # nginx: the captured Enumerate answer for an Enumerate, the Pull answer
    # for a Pull, to the same requests on two paths
    names = ("wsman-enum", "wsman-pull")
    nport = start_nginx(tmp, {n: os.path.join(tmp, n + ".xml") for n in names}, "".join(
        "    location = /%s { default_type '%s'; error_page 405 =200 $uri; }\n" % (n, WS_CT)
        for n in names), procs)
    nurl = "http://127.0.0.1:%d" % nport
    same_e = ws_post(nurl + "/wsman-enum", WS_ENUM.replace("@MSGID@", next(ids)), auth)
    same_p = ws_post(nurl + "/wsman-pull", WS_PULL.replace("@MSGID@", next(ids)).replace(
        "@CTX@", ctx), auth)
    print("nginx serves the same bytes: Enumerate %d bytes %s, Pull %d bytes %s"
          % (len(same_e[1]), same_e == (200, enum), len(same_p[1]), same_p == (200, pull)))
    nlua = ws_lua(os.path.join(tmp, "wsman-nginx.lua"), "/wsman-enum", "/wsman-pull", auth)
    r2 = wrk(nurl + "/wsman-enum", nlua, a.seconds, a.connections)
    print()
    print("| server | requests/s | pairs/s | p50 ms | p90 ms | p99 ms | requests | "
          "Enumerate ok | Pull ok | non-2xx | socket errors | bad answers |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in (("smbcimd", r1), ("nginx (static files)", r2)):
        bad = sum(r.get(k, 0) for k in ("enum_bad", "pull_bad", "faults", "other"))
        print("| %s | %.0f | %.0f | %.2f | %.2f | %.2f | %d | %d | %d | %d | %d | %d |" % (
            name, r["rps"], r["rps"] / 2, r.get("p50", -1), r.get("p90", -1), r.get("p99", -1),
            r["requests"], r.get("enum_ok", -1), r.get("pull_ok", -1), r["non2xx"],
            r["sockerr"], bad))
    print()
    for name, r in (("smbcimd", r1), ("nginx", r2)):
        if "enum_ok" not in r:
            print("%s: the wrk script's counts are missing; wrk said:\n%s" % (name, r["raw"]))
            continue
        bad = sum(r.get(k, 0) for k in ("enum_bad", "pull_bad", "faults", "other"))
        if bad:
            print("%s bad answers: %d Enumerate answers without %d items and a context, %d Pull "
                  "answers without %d items and EndOfSequence, %d SOAP faults %s, %d other "
                  "answers %s"
                  % (name, r["enum_bad"], WS_BATCH, r["pull_bad"], WS_BATCH, r.get("faults", 0),
                     json.dumps(r["fault_kinds"], sort_keys=True), r.get("other", 0),
                     json.dumps(r["other_kinds"], sort_keys=True)))
            print("  first: %s" % (r["first_bad"] or "")[:400])
    ratio = r1["rps"] / r2["rps"] if r2["rps"] else 0
    print("smbcimd / nginx throughput: %.2f" % ratio)
    if samples:
        print("smbcimd VmRSS during the run: first %d KiB, peak %d KiB, last %d KiB (%d samples)"
              % (samples[0], max(samples), samples[-1], len(samples)))
    print("targets (issue; nothing asserted): requests/s >= 0.5x nginx -> %.2fx; p99 < 20 ms at "
          "50 connections -> %.2f ms at %d; flat memory -> %s"
          % (ratio, r1.get("p99", -1), a.connections,
             "%d -> %d KiB (peak %d)" % (samples[0], samples[-1], max(samples))
             if samples else "no samples"))
    print("wrk settings: %d s, %d connections, 2 threads, keep-alive; a pair = Enumerate "
          "(%d items) + Pull (%d items)" % (a.seconds, a.connections, WS_BATCH, WS_BATCH))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--protocol", choices=("cimxml", "wsman"), default="cimxml",
                    help="CIM-XML EnumerateInstances (default) or WS-Man Enumerate + Pull")
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
    os.chmod(tmp, 0o755)  # smbcimd's worker (user smbcim) reads the snapshot
    ensure_worker_user()
    os.chmod(tmp, 0o755)
    made_user = subprocess.run(["getent", "passwd", USER], capture_output=True).returncode != 0
    made_pam = not os.path.exists("/etc/pam.d/smbcimd")
    made_group = False
    procs = []
    rc = 0
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
        if a.protocol == "wsman":
            # one user, each connection holding at most one open context at
            # a time: the default 32 per user would refuse Enumerates
            # (w:QuotaLimit) past 32 connections
            limit = max(32, 2 * a.connections)
            listen = ["--http", "none", "--https", "none", "--wsman-http", "127.0.0.1:%d" % port,
                      "--max-enumerations-per-user", str(limit),
                      "--max-enumerations", str(max(256, limit))]
            print("smbcimd: --max-enumerations-per-user %d (default 32: one user, %d connections)"
                  % (limit, a.connections))
        else:
            listen = ["--http", "127.0.0.1:%d" % port, "--https", "none"]
        d = subprocess.Popen([os.path.join(BUILD, "smbcimd"), "--foreground", "--config",
                              os.path.join(tmp, "empty.conf"), "--snapshot", snap] + listen +
                             ["--allow-plain-http", "--admin-group", "smbcim-bench"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "d.log"), "w"))
        procs.append(d)
        time.sleep(0.5)
        auth = base64.b64encode(("%s:%s" % (USER, PW)).encode()).decode()
        if a.protocol == "wsman":
            rc = bench_wsman(a, tmp, d, port, auth, procs)
        else:
            bench_cimxml(a, tmp, d, port, auth, procs)
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
        if os.environ.get("SMBCIM_BENCH_KEEP"):
            print("bench/server.py: kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return rc

if __name__ == "__main__":
    sys.exit(main())
