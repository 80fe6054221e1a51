#!/usr/bin/env python3
"""Black-box tests of the smbcim command line: options, commands, every
output format, exit codes and error messages.  Runs build/smbcim (or
$SMBCIM) over tests/fixtures/fs01.json.  Ends with "N passed, N failed".
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
FS01 = os.path.join(ROOT, "tests", "fixtures", "fs01.json")
results = []


def smbcim(*args):
    return subprocess.run([SMBCIM] + list(args), capture_output=True, text=True, timeout=60)


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def test_help_and_usage():
    p = smbcim("--help")
    check("--help exits 0 and lists commands", p.returncode == 0 and "ASSOCIATORS OF" in p.stdout
          and "classes" in p.stdout, p.stdout[:200])
    p = smbcim()
    check("no command: usage error, exit 2", p.returncode == 2 and "no command" in p.stderr, p.stderr)
    p = smbcim("frobnicate")
    check("unknown command: exit 2", p.returncode == 2 and "unknown command 'frobnicate'" in p.stderr, p.stderr)
    p = smbcim("--format", "xml", "classes")
    check("unknown format: exit 2", p.returncode == 2 and "unknown format 'xml'" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "query")
    check("missing argument: exit 2", p.returncode == 2 and "needs an argument" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "query", "SELECT", "*")
    check("extra argument: exit 2 with a hint", p.returncode == 2 and "quote" in p.stderr, p.stderr)
    p = smbcim("--smb-conf", "/nonexistent/smb.conf", "query", "SELECT * FROM Win32_Share")
    check("live source, no configuration: WBEM_E_NOT_AVAILABLE naming the file",
          p.returncode == 6 and "WBEM_E_NOT_AVAILABLE (0x80041009)" in p.stderr
          and "/nonexistent/smb.conf" in p.stderr and p.stdout == "", p.stderr)
    p = smbcim("--snapshot", FS01, "--smb-conf", "/etc/samba/smb.conf", "query",
               "SELECT * FROM Win32_Share")
    check("--snapshot with --smb-conf: usage error", p.returncode == 2, p.stderr)


def test_errors():
    p = smbcim("--snapshot", FS01, "query", "SELECT * FORM Win32_Share")
    check("syntax error: code, column, exit 3", p.returncode == 3 and
          p.stderr.startswith("smbcim: WBEM_E_INVALID_QUERY (0x80041017): ") and "column 10" in p.stderr
          and p.stdout == "", p.stderr)
    p = smbcim("--snapshot", FS01, "query", "SELECT * FROM Win32_Shares")
    check("unknown class: WBEM_E_INVALID_CLASS", p.returncode == 3 and
          "WBEM_E_INVALID_CLASS (0x80041010)" in p.stderr and "column 15" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "get", 'Win32_Share.Name="nope"')
    check("missing instance: WBEM_E_NOT_FOUND", p.returncode == 4 and
          "WBEM_E_NOT_FOUND (0x80041002)" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "get", 'Win32_Share.Name="x",')
    check("bad path: WBEM_E_INVALID_OBJECT_PATH with position", p.returncode == 3 and
          "WBEM_E_INVALID_OBJECT_PATH (0x8004103A)" in p.stderr and "position" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "query", "  ")
    check("blank query: WBEM_E_INVALID_PARAMETER", p.returncode == 3 and
          "WBEM_E_INVALID_PARAMETER (0x80041008): the query is empty" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "get", "")
    check("empty path: WBEM_E_INVALID_PARAMETER", p.returncode == 3 and
          "WBEM_E_INVALID_PARAMETER" in p.stderr, p.stderr)
    p = smbcim("--snapshot", "/nonexistent/snap.json", "enum", "Win32_Share")
    check("unreadable snapshot names the file", p.returncode == 3 and "/nonexistent/snap.json" in p.stderr, p.stderr)
    bad = os.path.join(ROOT, "tests", "fixtures", "bad")
    if os.path.isdir(bad):
        for f in sorted(os.listdir(bad)):
            p = smbcim("--snapshot", os.path.join(bad, f), "enum", "Win32_Share")
            check(f"bad snapshot {f} rejected", p.returncode == 3 and "WBEM_E_" in p.stderr and
                  p.stdout == "", p.stderr)


def test_formats():
    q = "SELECT * FROM Win32_Share"
    p = smbcim("--snapshot", FS01, "--format", "json", "query", q)
    data = json.loads(p.stdout) if p.returncode == 0 else []
    check("json: an array of objects", p.returncode == 0 and isinstance(data, list) and len(data) > 0, p.stderr)
    if data:
        o = data[0]
        keys = list(o.keys())
        check("json: system properties first, in Windows' order",
              keys[:10] == ["__GENUS", "__CLASS", "__SUPERCLASS", "__DYNASTY", "__RELPATH",
                            "__PROPERTY_COUNT", "__DERIVATION", "__SERVER", "__NAMESPACE", "__PATH"], keys)
        check("json: __GENUS 2, __DERIVATION array", o["__GENUS"] == 2 and
              o["__DERIVATION"] == ["CIM_LogicalElement", "CIM_ManagedSystemElement"], o)
        check("json: NULL as null, numbers as numbers", o.get("InstallDate", 0) is None and
              isinstance(o.get("Type"), int), o)
        check("json: __PATH full path", o["__PATH"].startswith("\\\\FS01\\root\\cimv2:Win32_Share.Name="), o["__PATH"])
    p = smbcim("--snapshot", FS01, "--format", "csv", "query", "SELECT * FROM Win32_Share")
    rows = list(csv.reader(io.StringIO(p.stdout)))
    check("csv: header starts with Node", p.returncode == 0 and rows and rows[0][0] == "Node", p.stdout[:200])
    if rows:
        names = [r[rows[0].index("Name")] for r in rows[1:]]
        check("csv: a name with a space survives quoting", "Finance Data" in names, names)
        check("csv: every row has the header's width", all(len(r) == len(rows[0]) for r in rows), rows)
    full = rows[0] if rows else None
    p = smbcim("--snapshot", FS01, "--format", "csv", "query",
               "SELECT * FROM Win32_Share WHERE Name = 'no such share'")
    check("csv: an empty result still prints its header (the same as with rows)",
          p.returncode == 0 and full and p.stdout.splitlines() == [",".join(full)],
          repr(p.stdout))
    p = smbcim("--snapshot", FS01, "--format", "csv", "query",
               "SELECT UserName, ShareName FROM Win32_ServerConnection WHERE UserName = 'nobody'")
    check("csv: an empty result of a SELECT list prints its header",
          p.returncode == 0 and p.stdout.splitlines() == ["Node,ShareName,UserName"],
          repr(p.stdout) + p.stderr)
    p = smbcim("--snapshot", FS01, "--format", "csv", "query", "SELECT * FROM Win32_ConnectionShare")
    rows = list(csv.reader(io.StringIO(p.stdout)))
    check("csv: REF paths with commas and quotes stay one field",
          p.returncode == 0 and len(rows) > 1 and all(len(r) == 3 for r in rows) and
          any('sharename="Projects"' in c for r in rows for c in r), p.stdout[:300])
    p = smbcim("--snapshot", FS01, "--format", "list", "get", 'Win32_Share.Name="Projects"')
    check("list: Name=Value lines", p.returncode == 0 and "\nName=Projects\n" in p.stdout and
          "\nInstallDate=\n" in p.stdout, p.stdout)
    p = smbcim("--snapshot", FS01, "--format", "mof", "get", 'Win32_Share="IPC$"')
    check("mof: GetObjectText form, NULLs omitted", p.returncode == 0 and
          p.stdout.startswith("instance of Win32_Share\n{\n") and "\tName = \"IPC$\";\n" in p.stdout
          and "InstallDate" not in p.stdout and p.stdout.rstrip().endswith("};"), p.stdout)
    p = smbcim("--snapshot", FS01, "query", "SELECT Name, Type FROM Win32_Share WHERE Type >= 2147483648")
    lines = p.stdout.splitlines()
    check("table: header, dashes, rows, SELECT-list order", p.returncode == 0 and len(lines) >= 3 and
          lines[0].split() == ["Name", "Type"] and set(lines[1]) <= {"-", " "} and
          any("IPC$" in l for l in lines[2:]), p.stdout)
    p = smbcim("--snapshot", FS01, "query", "SELECT * FROM Win32_Share WHERE Name = 'none'")
    check("empty result: exit 0, no output", p.returncode == 0 and p.stdout == "" and p.stderr == "", p.stderr)
    p = smbcim("--snapshot", FS01, "--format", "json", "query", "SELECT * FROM Win32_Share WHERE Name = 'none'")
    check("empty result in json: []", p.returncode == 0 and json.loads(p.stdout) == [], p.stdout)


def test_stdin():
    with open(FS01, "rb") as f:
        p = subprocess.run([SMBCIM, "--snapshot", "-", "--format", "json", "query",
                            "SELECT Name FROM Win32_Share WHERE Name = 'IPC$'"],
                           stdin=f, capture_output=True, timeout=60)
    check("--snapshot - reads standard input", p.returncode == 0 and
          json.loads(p.stdout)[0]["Name"] == "IPC$", p.stderr)
    p = subprocess.run([SMBCIM, "--snapshot", "-", "enum", "Win32_Share"], input=b"{",
                       capture_output=True, timeout=60)
    check("a bad snapshot on stdin is named <stdin>", p.returncode == 3 and
          b"<stdin>: line 1, column 2" in p.stderr, p.stderr)


def test_unsafe_inputs():
    """A FIFO as smb.conf and /dev/zero as a snapshot: refused at once with
    the file named (a hang or a read until memory runs out fails here by the
    10 s timeout)."""
    import tempfile
    with tempfile.TemporaryDirectory(prefix="smbcim-cli-unsafe.") as d:
        fifo = os.path.join(d, "smb.conf")
        os.mkfifo(fifo)
        try:
            p = subprocess.run([SMBCIM, "--smb-conf", fifo, "enum", "Win32_Share"],
                               capture_output=True, text=True, timeout=10)
            check("--smb-conf FIFO: refused, named, exit 6", p.returncode == 6 and
                  f"WBEM_E_NOT_AVAILABLE (0x80041009): cannot read the Samba configuration {fifo}: "
                  "a FIFO (named pipe), not a regular file" in p.stderr, p.stderr)
        except subprocess.TimeoutExpired:
            check("--smb-conf FIFO: refused, named, exit 6", False, "hung (10 s timeout)")
    try:
        p = subprocess.run([SMBCIM, "--snapshot", "/dev/zero", "enum", "Win32_Share"],
                           capture_output=True, text=True, timeout=10)
        check("--snapshot /dev/zero: refused, named, exit 3", p.returncode == 3 and
              "WBEM_E_INVALID_PARAMETER (0x80041008): cannot read snapshot /dev/zero: it is a "
              "character device, not a regular file or a pipe" in p.stderr, p.stderr)
    except subprocess.TimeoutExpired:
        check("--snapshot /dev/zero: refused, named, exit 1", False, "hung (10 s timeout)")


def test_commands():
    p = smbcim("classes")
    check("classes without a snapshot", p.returncode == 0 and "Win32_ConnectionShare" in p.stdout and
          "CIM_Dependency" in p.stdout, p.stdout + p.stderr)
    p = smbcim("class", "Win32_ConnectionShare")
    check("class prints MOF", p.returncode == 0 and "class Win32_ConnectionShare : CIM_Dependency" in p.stdout
          and "Antecedent" in p.stdout, p.stdout + p.stderr)
    # the qualifiers Windows declares (windows-fidelity.md S2, S5, S9)
    p = smbcim("class", "Win32_ServerSession")
    check("class Win32_ServerSession: SessionType Values Guest/NoEncryption/Other, no "
          "MappingStrings (Windows declares none on the session classes)",
          p.returncode == 0 and '"Guest", "NoEncryption", "Other"' in p.stdout
          and "MappingStrings" not in p.stdout, p.stdout + p.stderr)
    p = smbcim("class", "Win32_ServerConnection")
    check("class Win32_ServerConnection: no MappingStrings",
          p.returncode == 0 and "MappingStrings" not in p.stdout, p.stdout + p.stderr)
    p = smbcim("class", "Win32_Share")
    check("class Win32_Share: Type maps to SHARE_INFO_502 shi502_type",
          p.returncode == 0 and "SHARE_INFO_502|shi502_type" in p.stdout
          and "shi1_type" not in p.stdout, p.stdout + p.stderr)
    # the associations declare Association themselves (pywbem's MOF compiler
    # refuses references in a class that does not)
    for assoc in ("Win32_ConnectionShare", "Win32_SessionConnection"):
        p = smbcim("class", assoc)
        check(f"class {assoc}: its own [Association] qualifier", p.returncode == 0 and
              p.stdout.startswith("[Association, ") and
              f"\nclass {assoc} : CIM_Dependency\n" in p.stdout, p.stdout + p.stderr)
    # Windows' methods and create/delete qualifiers (learn.microsoft.com Win32_Share)
    p = smbcim("class", "Win32_Share")
    check("class Win32_Share: SupportsCreate, CreateBy, SupportsDelete, DeleteBy and the "
          "four methods with their parameters",
          p.returncode == 0 and 'SupportsCreate, CreateBy("Create"), SupportsDelete, '
          'DeleteBy("DeleteInstance")' in p.stdout
          and "[Static, " in p.stdout and "] uint32 Create(\n\t\t[in, " in p.stdout
          and "[in, optional, EmbeddedObject, " in p.stdout
          and "] uint32 Delete();\n" in p.stdout and "] uint32 GetAccessMask();\n" in p.stdout
          and "] uint32 SetShareInfo(\n" in p.stdout
          and 'DEPRECATED{"Win32_Share.GetAccessMask"}' in p.stdout, p.stdout + p.stderr)
    p = smbcim("class", "Win32_Nope")
    check("class: unknown class", p.returncode == 3 and "WBEM_E_INVALID_CLASS" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "names", "Win32_Share")
    check("names: one full path per line", p.returncode == 0 and
          all(l.startswith("\\\\FS01\\root\\cimv2:Win32_Share.Name=") for l in p.stdout.splitlines()), p.stdout)
    p = smbcim("--snapshot", FS01, "--format", "json", "enum", "CIM_LogicalElement")
    classes = {o["__CLASS"] for o in json.loads(p.stdout)} if p.returncode == 0 else set()
    check("enum a superclass returns the subclasses' instances",
          classes == {"Win32_Share", "Win32_ServerConnection", "Win32_ServerSession"}, classes)
    # every REF of every association, and every __PATH, resolves with get
    for fixture in ("fs01.json", "escapes.json"):
        snap = os.path.join(ROOT, "tests", "fixtures", fixture)
        bad = []
        for cls in ("Win32_ConnectionShare", "Win32_SessionConnection"):
            p = smbcim("--snapshot", snap, "--format", "json", "enum", cls)
            for o in json.loads(p.stdout or "[]"):
                # a REF value is the relative path as Windows writes it
                # (key names spelled "computername", ...): it names the
                # object whose __RELPATH it is, but for the case of key names
                for path, sysprop in ((o["Antecedent"], "__RELPATH"), (o["Dependent"], "__RELPATH"),
                                      (o["__PATH"], "__PATH")):
                    g = smbcim("--snapshot", snap, "--format", "json", "get", path)
                    if g.returncode != 0 or json.loads(g.stdout)[0][sysprop].lower() != path.lower():
                        bad.append(path)
        check(f"{fixture}: every association REF and __PATH resolves with get", not bad, bad[:3])


def test_hostile_data():
    """tests/fixtures/hostile.json (escape and OSC sequences, BEL, CR, a line
    feed forging a Name= line, C1 and bidi controls, CSV formulas,
    backslashes) and an smb.conf with bytes that are not UTF-8, through every
    format and in error messages: no control character reaches the terminal
    as it is, each escape decodes back to the data (docs/decisions.md,
    "Control characters in output"), JSON keeps the data exact."""
    import re
    import tempfile
    hostile = os.path.join(ROOT, "tests", "fixtures", "hostile.json")
    with open(hostile, encoding="utf-8") as f:
        doc = json.load(f)
    comments = {s["name"]: s["comment"] for s in doc["shares"]}
    user = next(iter(doc["smbstatus"]["sessions"].values()))["username"]
    controls = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"

    def run(*args, snapshot=hostile):
        pre = ["--snapshot", snapshot] if snapshot else []
        return subprocess.run([os.fsencode(SMBCIM)] + [os.fsencode(a) if isinstance(a, str) else a
                                                       for a in pre + list(args)],
                              capture_output=True, timeout=60)

    def raw(b, allowed="\n"):
        """The raw control characters in b (bytes), those in allowed aside;
        None if b is not UTF-8."""
        try:
            t = b.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return re.findall("[%s]" % controls, re.sub("[%s]" % allowed, "", t))

    def unvisible(s):
        """The text (table, list, names, messages) decoded: \\xNN one byte,
        \\uNNNN one code point, any other backslash itself."""
        b = s.encode("utf-8") if isinstance(s, str) else s
        return re.sub(rb"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})",
                      lambda m: bytes([int(m[1], 16)]) if m[1] else chr(int(m[2], 16)).encode(), b)

    def unmof(lit):
        named = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "'": "'"}
        return re.sub(r'\\(?:x([0-9A-Fa-f]{1,4})|(.))',
                      lambda m: chr(int(m[1], 16)) if m[1] else named[m[2]], lit)

    classes = ("Win32_Share", "Win32_ServerSession", "Win32_ServerConnection",
               "Win32_ConnectionShare", "Win32_SessionConnection")
    allowed = {"table": "\n", "list": "\n", "csv": "\t\r\n", "mof": "\t\n"}
    leaks = []
    for fmt, ok in allowed.items():
        for cls in classes:
            p = run("--format", fmt, "enum", cls)
            bad = raw(p.stdout, ok)
            if p.returncode != 0 or bad is None or bad or raw(p.stderr) != []:
                leaks.append((fmt, cls, p.returncode, bad, p.stderr[:200]))
    for cls in ("Win32_Share", "Win32_ConnectionShare"):
        p = run("names", cls)
        if p.returncode != 0 or raw(p.stdout) != []:
            leaks.append(("names", cls, p.stdout[:200]))
    check("hostile: no raw control or bidi character in table, list, csv, mof, names", not leaks,
          leaks[:3])

    q = "SELECT Name, Description, Type FROM Win32_Share"
    p = run("query", q)
    lines = p.stdout.decode("utf-8", "replace").split("\n")[:-1]
    check("hostile table: one line per share plus two, every line as wide as the header "
          "(widths measured on the escaped text)",
          p.returncode == 0 and len(lines) == len(comments) + 2
          and len({len(l) for l in lines}) == 1, lines)
    got = {}
    at = lines[0].index("Description") if lines else 0
    for l in lines[2:]:  # Type, right-aligned, is the last 4 characters
        got[unvisible(l[:at].rstrip(" "))] = unvisible(l[at:-5].rstrip(" "))
    check("hostile table: each cell decodes back to the data",
          got == {n.encode(): c.encode() for n, c in comments.items()}, got)

    p = run("--format", "list", "query", "SELECT Name, Description FROM Win32_Share")
    lines = [l for l in p.stdout.split(b"\n") if l]
    pairs = [l.split(b"=", 1) for l in lines]
    check("hostile list: exactly one Name=value line per property (a line feed in a value "
          "forges none)", p.returncode == 0 and len(lines) == 2 * len(comments)
          and sorted(k for k, _ in pairs) == sorted([b"Description", b"Name"] * len(comments)),
          lines)
    names = [unvisible(v) for k, v in pairs if k == b"Name"]
    descs = [unvisible(v) for k, v in pairs if k == b"Description"]
    check("hostile list: values decode back to the data (the backslash rule is unambiguous)",
          dict(zip(names, descs)) == {n.encode(): c.encode() for n, c in comments.items()},
          list(zip(names, descs))[:4])
    p = run("--format", "list", "enum", "Win32_ServerSession")
    lines = [l for l in p.stdout.split(b"\n") if l]
    users = [l[len(b"UserName="):] for l in lines if l.startswith(b"UserName=")]
    check("hostile list: a user name with OSC and a line feed stays on its line",
          p.returncode == 0 and all(re.match(rb"^[A-Za-z]+=", l) for l in lines)
          and users == [b"evil\\x1b]0;owned\\x07\\x0aName=x"]
          and unvisible(users[0]) == user.encode(), lines)

    p = run("--format", "csv", "query", q)
    rows = list(csv.reader(io.StringIO(p.stdout.decode("utf-8"), newline=""))) if p.returncode == 0 else []

    def shows(cell, orig):
        """cell holds orig as the CSV rules say: a ' before a formula, escapes."""
        if orig[:1] in ("=", "+", "-", "@", "\t", "\r"):
            return cell[:1] == "'" and unvisible(cell[1:]) == orig.encode()
        return unvisible(cell) == orig.encode()
    unmatched = [r for r in rows[1:] if len(r) != 4 or r[3] != "0"
                 or not any(shows(r[2], n) and shows(r[1], c) for n, c in comments.items())]
    guarded = [c for r in rows[1:] for c in r[1:3] if c[:1] == "'"]
    check("hostile csv: parses, CRLF rows, every row the header's width",
          p.returncode == 0 and rows and rows[0] == ["Node", "Description", "Name", "Type"]
          and len(rows) == len(comments) + 1 and all(len(r) == 4 for r in rows)
          and p.stdout.endswith(b"\r\n"), rows[:3])
    check("hostile csv: the 6 cells starting with = + - @ TAB CR get a '; numbers keep their "
          "sign; every cell decodes back to the data",
          rows and not unmatched and len(guarded) == 6, (unmatched[:3], guarded))
    check("hostile csv: a formula cell is quoted", b'"\'=cmd|\' /C calc\'!A0"' in p.stdout
          and b'"\'-2+3"' in p.stdout, p.stdout[:300])

    p = run("--format", "mof", "query", "SELECT Name, Description FROM Win32_Share")
    text = p.stdout.decode("utf-8", "replace")
    lit = r'"((?:[^"\\\x00-\x1f\x7f]|\\[nrtbf"\\]|\\x[0-9A-F]{4})*)"'
    stmt = re.compile(r"instance of \w+|\{|\};|\t(\w+) = %s;|" % lit)
    bad = [l for l in text.split("\n") if not stmt.fullmatch(l)]
    found = {}
    for block in re.findall(r"\tDescription = %s;\n\tName = %s;" % (lit, lit), text):
        found[unmof(block[1])] = unmof(block[0])
    check("hostile mof: one statement per line, string literals escaped as DSP0004 says",
          p.returncode == 0 and not bad and text.count("instance of") == len(comments), bad[:3])
    check("hostile mof: literals decode back to the data", found == comments, found)

    p = run("--format", "json", "enum", "Win32_Share")
    data = json.loads(p.stdout) if p.returncode == 0 else []
    check("hostile json: names and comments round-trip exactly",
          {o["Name"]: o["Description"] for o in data} == comments, data[:1])
    p = run("--format", "json", "enum", "Win32_ServerSession")
    check("hostile json: the user name round-trips exactly",
          p.returncode == 0 and [o["UserName"] for o in json.loads(p.stdout)] == [user], p.stdout[:200])

    # messages: a query's path, a class name, an argument, an option
    errs = [
        (run("get", 'Win32_Share.Name="\x1b[2J\n"'), 4, b'Name="\\x1b[2J\\x0a"'),
        (run("class", b"Win\x1b]0;x\x07\xff", snapshot=None), 3, b"class 'Win\\x1b]0;x\\x07\\xff'"),
        (run("fro\x1bb", snapshot=None), 2, b"unknown command 'fro\\x1bb'"),
        (run("--format", "x\x9b2J", "classes", snapshot=None), 2, b"unknown format 'x\\u009b2J'"),
        (run("--\x1b]0;t\x07", "classes", snapshot=None), 2, b"invalid option '--\\x1b]0;t\\x07'"),
    ]
    bad = [(e.returncode, e.stderr) for e, rc, want in errs
           if e.returncode != rc or want not in e.stderr or raw(e.stderr) != []]
    check("hostile: error messages show controls, bidi and bad bytes escaped", not bad, bad)

    # bytes that are not UTF-8 (a Latin-1 smb.conf): the live source, smbd not running
    with tempfile.TemporaryDirectory(prefix="smbcim-cli-hostile.") as d:
        for sub in ("pid", "lock", "state", "cache"):
            os.mkdir(os.path.join(d, sub))
        conf = os.path.join(d, "smb.conf")
        with open(conf, "wb") as f:
            f.write(("[global]\n netbios name = LIVE\n pid directory = {0}/pid\n lock directory = {0}/lock\n"
                     " state directory = {0}/state\n cache directory = {0}/cache\n"
                     "[bad]\n path = /srv/bad\n comment = ".format(d)).encode()
                    + b"Donn\xe9es \xff\x1b[31m end\n")
        outs = {}
        for fmt in ("table", "list", "csv", "mof"):
            p = subprocess.run([SMBCIM, "--smb-conf", conf, "--format", fmt, "query",
                                "SELECT Name, Description FROM Win32_Share WHERE Name = 'bad'"],
                               capture_output=True, timeout=60)
            outs[fmt] = (p.returncode, raw(p.stdout, allowed[fmt]), raw(p.stderr), p.stdout)
        check("hostile smb.conf: bytes that are not UTF-8 shown as \\xNN (\\xFFFD in MOF), "
              "the output UTF-8 with no raw control",
              all(o[0] == 0 and o[1] == [] and o[2] == [] for o in outs.values())
              and b"Donn\\xe9es \\xff\\x1b[31m end" in outs["table"][3]
              and b"Description=Donn\\xe9es \\xff\\x1b[31m end\n" in outs["list"][3]
              and b"Donn\\xe9es \\xff\\x1b[31m end" in outs["csv"][3]
              and b'"Donn\\xFFFDes \\xFFFD\\x001B[31m end"' in outs["mof"][3], outs)


def cells(text):
    """Display cells of text, as a terminal counts them."""
    import unicodedata
    n = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        n += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return n


def test_cli_usability():
    env_nocols = {k: v for k, v in os.environ.items() if k != "COLUMNS"}

    def run(*args, columns=None, text=True):
        env = dict(env_nocols)
        if columns is not None:
            env["COLUMNS"] = str(columns)
        p = subprocess.run([SMBCIM] + list(args), capture_output=True, timeout=60, env=env)
        if text:  # decoded, line ends kept as they are (CSV's CRLF)
            p.stdout, p.stderr = p.stdout.decode(), p.stderr.decode()
        return p

    # help: per command, three spellings, exit 0, nothing run
    for argv in (["query", "--help"], ["help", "query"], ["--help", "query"], ["query", "-h"]):
        p = run(*argv)
        check(f"help: smbcim {' '.join(argv)} prints query's help, exit 0",
              p.returncode == 0 and p.stdout.startswith("usage: smbcim query WQL")
              and "ASSOCIATORS OF" in p.stdout and p.stderr == "", p.stdout[:200] + p.stderr)
    p = run("class", "--help")
    check("help: class --help exits 0 without running", p.returncode == 0 and
          p.stdout.startswith("usage: smbcim class CLASS"), p.stdout[:200] + p.stderr)
    p = run("help", "enum")
    check("help: enum's help lists its own options", p.returncode == 0 and "--where" in p.stdout
          and "--property" in p.stdout and "--result-class" not in p.stdout, p.stdout)
    p = run("help", "references")
    check("help: references offers --result-class and --role, not --assoc-class",
          "--result-class" in p.stdout and "--role" in p.stdout and "--assoc-class" not in p.stdout,
          p.stdout)
    p = run("help")
    check("help: 'smbcim help' is the general help", p.returncode == 0 and "commands:" in p.stdout
          and "associators" in p.stdout and "4 not found" in p.stdout, p.stdout[:300])
    p = run("help", "frob")
    check("help: an unknown command is a usage error", p.returncode == 2 and "not a command" in p.stderr,
          p.stderr)
    p = run("-V")
    check("-V prints the version", p.returncode == 0 and p.stdout.startswith("smbcim 0."), p.stdout)

    # options after the command, short options, = and prefixes
    base = json.loads(run("--snapshot", FS01, "--format", "json", "enum", "Win32_Share").stdout)
    for argv in (["enum", "Win32_Share", "--snapshot", FS01, "--format", "json"],
                 ["-s", FS01, "enum", "-f", "json", "Win32_Share"],
                 ["enum", "Win32_Share", "-fjson", "-s" + FS01],
                 ["--snap=" + FS01, "enum", "Win32_Share", "--form=json"],
                 ["-s", FS01, "-f", "json", "--", "enum", "Win32_Share"]):
        p = run(*argv)
        ok = p.returncode == 0
        try:
            ok = ok and json.loads(p.stdout) == base
        except ValueError:
            ok = False
        check(f"options anywhere: smbcim {' '.join(a.replace(FS01, 'F') for a in argv)}", ok,
              p.stderr)
    p = run("-s", FS01, "query", "--where", "x=1", "SELECT * FROM Win32_Share")
    check("an option of another command is refused", p.returncode == 2 and
          "option '--where' does not apply to 'query'" in p.stderr, p.stderr)
    p = run("-s", FS01, "references", 'Win32_Share.Name="IPC$"', "--assoc-class", "X")
    check("references refuses --assoc-class", p.returncode == 2 and "does not apply" in p.stderr, p.stderr)
    p = run("-s", FS01, "enum", "Win32_Share", "--form")
    check("a missing option value is a usage error", p.returncode == 2 and "needs an argument" in p.stderr,
          p.stderr)
    p = run("-s", FS01, "--keys-only=yes", "associators", "x")
    check("a flag given a value is a usage error", p.returncode == 2 and "takes no argument" in p.stderr,
          p.stderr)

    # enum --where / --property: the same answers as the WQL they stand for
    def js(*argv):
        p = run("-s", FS01, "-f", "json", *argv)
        return p.returncode, (json.loads(p.stdout) if p.returncode == 0 else p.stderr)
    cases = [
        (["enum", "Win32_ServerConnection", "--where", "ShareName='Projects'"],
         "SELECT * FROM Win32_ServerConnection WHERE ShareName='Projects'"),
        (["enum", "Win32_ServerConnection", "-w", "NumberOfFiles > 0", "-p", "UserName, ShareName"],
         "SELECT UserName, ShareName FROM Win32_ServerConnection WHERE NumberOfFiles > 0"),
        (["enum", "CIM_LogicalElement", "--property", "Name"], "SELECT Name FROM CIM_LogicalElement"),
    ]
    for argv, wql in cases:
        a, b = js(*argv), js("query", wql)
        check(f"enum {' '.join(argv[1:])} == {wql}", a[0] == 0 and a == b and a[1], (a, b))
    p = run("-s", FS01, "enum", "Win32_ServerConnection", "--where", "ShareName = = 'x'")
    check("an error in --where names its column there", p.returncode == 3 and
          "WBEM_E_INVALID_QUERY" in p.stderr and "in --where at column 13:" in p.stderr, p.stderr)
    p = run("-s", FS01, "enum", "Win32_Share", "--property", "Name FROM Win32_ServerSession --")
    check("--property takes names only (no query text through it)", p.returncode == 3 and
          "WBEM_E_INVALID_PROPERTY" in p.stderr and "item 1" in p.stderr, p.stderr)
    p = run("-s", FS01, "enum", "Win32_Share", "--property", "Name,Nope")
    check("--property with an unknown property: the query is shown", p.returncode == 3 and
          "SELECT Name, Nope FROM Win32_Share" in p.stderr, p.stderr)
    p = run("-s", FS01, "enum", "Win32_Share WHERE 1=1", "--where", "Name='x'")
    check("enum CLASS must be a class name", p.returncode == 3 and "WBEM_E_INVALID_CLASS" in p.stderr,
          p.stderr)
    p = run("-s", FS01, "-f", "csv", "enum", "Win32_ServerConnection", "--where", "UserName='nobody'",
            "--property", "UserName,ShareName")
    check("an empty CSV result prints its header (CRLF)", p.returncode == 0 and
          p.stdout == "Node,ShareName,UserName\r\n", repr(p.stdout))

    # associators / references: the same as the WQL forms, every filter
    share = 'Win32_Share.Name="Projects"'
    sess = 'Win32_ServerSession.ComputerName="10.0.0.5",UserName="alice"'

    def paths(rc_out):
        rc, out = rc_out
        return rc, sorted(o["__PATH"] for o in out) if rc == 0 else out
    acases = [
        (["associators", share], "ASSOCIATORS OF {%s}" % share),
        (["associators", share, "--result-class", "Win32_ServerConnection"],
         "ASSOCIATORS OF {%s} WHERE ResultClass=Win32_ServerConnection" % share),
        (["associators", sess, "--assoc-class", "Win32_SessionConnection", "--role", "Antecedent",
          "--result-role", "Dependent"],
         "ASSOCIATORS OF {%s} WHERE AssocClass=Win32_SessionConnection Role=Antecedent "
         "ResultRole=Dependent" % sess),
        (["associators", share, "--keys-only"], "ASSOCIATORS OF {%s} WHERE KeysOnly" % share),
        (["references", share], "REFERENCES OF {%s}" % share),
        (["references", sess, "--result-class", "Win32_SessionConnection", "--role", "Antecedent"],
         "REFERENCES OF {%s} WHERE ResultClass=Win32_SessionConnection Role=Antecedent" % sess),
    ]
    for argv, wql in acases:
        a, b = paths(js(*argv)), paths(js("query", wql))
        check(f"{argv[0]} {' '.join(argv[2:])} == {wql[:40]}...", a[0] == 0 and a == b and a[1], (a, b))
    p = run("-s", FS01, "associators", 'Win32_Share.Name="nope"')
    check("associators of a missing object: exit 4", p.returncode == 4 and "WBEM_E_NOT_FOUND" in p.stderr,
          p.stderr)
    p = run("-s", FS01, "associators", share, "--result-class", "Nope")
    check("associators with an unknown class: exit 3", p.returncode == 3, p.stderr)

    # distinct exit codes
    for argv, rc in ((["-s", FS01, "get", 'Win32_Share.Name="nope"'], 4),
                     (["-s", FS01, "query", "SELECT * FORM x"], 3),
                     (["-s", FS01, "query", "SELECT * FROM Win32_Share WHERE " +
                       " OR ".join(["Name='a'"] * 1100)], 7),
                     (["--smb-conf", "/nonexistent/smb.conf", "enum", "Win32_Share"], 6),
                     (["frob"], 2)):
        p = run(*argv)
        check(f"exit {rc}: {' '.join(argv)[:60]}", p.returncode == rc, (p.returncode, p.stderr[:200]))

    # the table: NULL columns, width, no trailing spaces, labels, system properties
    p = run("-s", FS01, "enum", "Win32_ServerConnection")
    head = p.stdout.splitlines()[0].split()
    check("table: columns NULL in every row are left out, and said so on stderr",
          p.returncode == 0 and "Caption" not in head and "ComputerName" in head and
          "not shown, NULL in every row: Caption Description InstallDate Name Status" in p.stderr,
          (head, p.stderr))
    p = run("-s", FS01, "-f", "list", "enum", "Win32_ServerConnection")
    check("list keeps the NULL properties", "Caption=" in p.stdout and p.stderr == "", p.stderr)
    p = run("-s", FS01, "query", "SELECT Caption, UserName FROM Win32_ServerConnection")
    check("table: a NULL column the SELECT list names is shown",
          p.stdout.splitlines()[0].split() == ["Caption", "UserName"] and p.stderr == "",
          p.stdout[:200] + p.stderr)
    for width in (80, 60):
        p = run("-s", FS01, "enum", "Win32_Share", columns=width)
        lines = p.stdout.splitlines()
        check(f"table fits COLUMNS={width}: every line, no trailing spaces, cut cells end in …",
              p.returncode == 0 and lines and all(cells(ln) <= width for ln in lines)
              and not any(ln.endswith(" ") for ln in lines) and "…" in p.stdout,
              [ln for ln in lines if cells(ln) > width or ln.endswith(" ")][:3])
    p = run("-s", FS01, "enum", "Win32_ServerConnection", columns=60)
    nums = [ln.split()[-3:] for ln in p.stdout.splitlines()[2:]]
    check("table: numbers are never cut (only headers)", all("…" not in "".join(n) for n in nums)
          and ["3001", "3", "2"] in nums, nums[:3])
    p = run("-s", FS01, "enum", "Win32_ServerConnection", columns=20)
    check("table too wide even cut: printed as a list, with a note",
          "ComputerName=10.0.0.5" in p.stdout and "printed as a list" in p.stderr, p.stderr)
    p = run("-s", FS01, "enum", "Win32_Share")
    check("table not cut when written to a pipe (no COLUMNS)", "…" not in p.stdout and
          "Hidden backups" in p.stdout, p.stdout[:300])
    lines = p.stdout.splitlines()
    check("table: no trailing spaces (empty last cells included)",
          not any(ln.endswith(" ") for ln in lines), [ln for ln in lines if ln.endswith(" ")][:2])
    p = run("-s", FS01, "query", "SELECT __CLASS, Name FROM Win32_Share")
    check("table: system properties in the SELECT list are columns with a header",
          p.stdout.splitlines()[0].split() == ["__CLASS", "Name"] and
          p.stdout.splitlines()[2].startswith("Win32_Share "), p.stdout[:200])
    p = run("-s", FS01, "query", "SELECT __CLASS FROM Win32_Share")
    check("table: only system properties, still a header",
          p.stdout.splitlines()[:2] == ["__CLASS", "-------"], p.stdout[:100])
    p = run("-s", FS01, "-f", "csv", "query", "SELECT __PATH, Name FROM Win32_Share WHERE Name='IPC$'")
    check("csv: a selected system property is a column", p.stdout.split("\r\n")[0] == "Node,__PATH,Name"
          and 'Win32_Share.Name=""IPC$""' in p.stdout, repr(p.stdout))
    p = run("-s", FS01, "query", "ASSOCIATORS OF {Win32_ServerConnection.ComputerName=\"10.0.0.5\","
            "ShareName=\"Projects\",UserName=\"alice\"}")
    labels = [ln for ln in p.stdout.splitlines() if ln.startswith("Class: ")]
    check("table: a result of several classes prints one labelled table per class",
          sorted(labels) == ["Class: MSFT_SmbOpenFile", "Class: Win32_ServerSession",
                             "Class: Win32_Share"], p.stdout[:400])
    # display cells: CJK takes two, the columns after it stay aligned
    with open(FS01) as f:
        doc = json.load(f)
    for sh in doc["shares"]:
        if sh["name"] == "Projects":
            sh["comment"] = "共有フォルダ"
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
        cjk = f.name
    try:
        p = run("-s", cjk, "enum", "Win32_Share", "--property", "Description,Name,Path")
        lines = p.stdout.splitlines()
        col = cells(lines[0][:lines[0].index("Name")])
        rows = [ln for ln in lines[2:] if "共有" in ln]
        check("table: CJK text takes two cells, the next column stays aligned",
              rows and all(cells(r[:r.index("Projects")]) == col for r in rows), lines[:4])
    finally:
        os.unlink(cjk)

    # bash completion
    comp = os.path.join(ROOT, "dist", "bash-completion", "smbcim")

    def complete(*words):
        script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); '
                  'COMP_WORDS[0]="$SMBCIM_BIN"; _smbcim; printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(env_nocols, SMBCIM_BIN=SMBCIM)
        p = subprocess.run(["bash", "-c", script, "x", comp] + list(words), capture_output=True,
                           text=True, timeout=60, env=env)
        return [w for w in p.stdout.splitlines() if w]
    check("completion: commands", complete("smbcim", "as") == ["associators"], complete("smbcim", "as"))
    help_cmds = [ln.split()[0] for ln in run("--help").stdout.split("commands:\n")[1].split("\n\n")[0]
                 .splitlines()]
    check("completion: every command of --help", sorted(complete("smbcim", "")) == sorted(help_cmds),
          (complete("smbcim", ""), help_cmds))
    check("completion: class names", "Win32_ServerSession" in complete("smbcim", "enum", "Win32_Se"),
          complete("smbcim", "enum", "Win32_Se"))
    check("completion: a command's options", complete("smbcim", "enum", "X", "--p") == ["--property"],
          complete("smbcim", "enum", "X", "--p"))
    check("completion: formats", complete("smbcim", "-f", "j") == ["json"], complete("smbcim", "-f", "j"))
    check("completion: property names after SELECT, in a quoted query",
          "SELECT NumberOfFiles" in complete("smbcim", "query", '"SELECT Numb'),
          complete("smbcim", "query", '"SELECT Numb'))
    check("completion: property names of the FROM class after WHERE",
          complete("smbcim", "query", '"SELECT * FROM Win32_Share WHERE Pa')
          == ["SELECT * FROM Win32_Share WHERE Path"],
          complete("smbcim", "query", '"SELECT * FROM Win32_Share WHERE Pa'))
    check("completion: --property items", complete("smbcim", "enum", "Win32_Share", "--property", "Name,Pa")
          == ["Name,Path"], complete("smbcim", "enum", "Win32_Share", "--property", "Name,Pa"))


def test_open_files():
    """MSFT_SmbOpenFile: ids kept by `smbcim snapshot`, and a source without
    them (smbstatus' text output) named as such, without breaking the rest."""
    p = smbcim("-s", FS01, "-f", "json", "enum", "MSFT_SmbOpenFile")
    ids = sorted(o["FileId"] for o in json.loads(p.stdout)) if p.returncode == 0 else None
    # FileId = pid * 2^32 + share_file_id ("2001/11" is 2001 * 2^32 + 11)
    check("open files: the fixture's six opens, FileId from pid and share_file_id",
          ids == [2001 * 2**32 + 11, 2001 * 2**32 + 12, 2002 * 2**32 + 13, 2003 * 2**32 + 14,
                  2003 * 2**32 + 15, 2005 * 2**32 + 16],
          p.stderr or ids)
    with tempfile.TemporaryDirectory() as d:
        snap = os.path.join(d, "snap.json")
        p = smbcim("-s", FS01, "snapshot")
        with open(snap, "w") as f:
            f.write(p.stdout)
        p = smbcim("-s", snap, "-f", "json", "enum", "MSFT_SmbOpenFile")
        again = sorted(o["FileId"] for o in json.loads(p.stdout)) if p.returncode == 0 else None
        check("open files: smbcim snapshot keeps the file ids", again == ids, p.stderr or again)
        with open(FS01) as f:
            doc = json.load(f)
        for fobj in doc["smbstatus"]["open_files"].values():
            for o in fobj["opens"].values():
                o.pop("share_file_id", None)
        noids = os.path.join(d, "noids.json")
        with open(noids, "w") as f:
            json.dump(doc, f)
        p = smbcim("-s", noids, "enum", "MSFT_SmbOpenFile")
        check("open files without ids: WBEM_E_NOT_AVAILABLE (exit 6) saying why",
              p.returncode == 6 and "WBEM_E_NOT_AVAILABLE" in p.stderr
              and "ids of 6 open file(s) are not known" in p.stderr and p.stdout == "", p.stderr)
        p = smbcim("-s", noids, "-f", "json", "query", 'ASSOCIATORS OF {Win32_Share.Name="Projects"}')
        got = [o["__CLASS"] for o in json.loads(p.stdout)] if p.returncode == 0 else None
        check("open files without ids: ASSOCIATORS OF a share still answers its connection",
              got == ["Win32_ServerConnection"], p.stderr or got)
        p = smbcim("-s", noids, "-f", "json", "query", "SELECT * FROM SMBCIM_ShareOpenFile")
        check("open files without ids: the associations have no links",
              p.returncode == 0 and json.loads(p.stdout) == [], p.stderr or p.stdout[:200])
        doc["smbstatus"]["open_files"]["/srv/projects/plan.docx"]["opens"]["2001/11"]["share_file_id"] = "-3"
        bad = os.path.join(d, "bad.json")
        with open(bad, "w") as f:
            json.dump(doc, f)
        p = smbcim("-s", bad, "enum", "MSFT_SmbOpenFile")
        check("a share_file_id that is no number is refused with its JSON path",
              p.returncode == 3 and '.opens["2001/11"].share_file_id: expected a file id' in p.stderr,
              p.stderr)
        with open(FS01) as f:
            doc = json.load(f)
        doc["smbstatus"]["open_files"]["/srv/projects/plan.docx"]["opens"]["2001/11"]["share_file_id"] = str(2**32)
        with open(bad, "w") as f:
            json.dump(doc, f)
        p = smbcim("-s", bad, "enum", "MSFT_SmbOpenFile")
        check("a share_file_id of 2^32 cannot make a FileId: WBEM_E_NOT_AVAILABLE saying so",
              p.returncode == 6 and "cannot be given a FileId" in p.stderr, p.stderr)


def main():
    for t in (test_help_and_usage, test_errors, test_formats, test_stdin, test_unsafe_inputs,
              test_commands, test_hostile_data, test_cli_usability, test_open_files):
        try:
            t()
        except Exception as e:  # a crash of the harness is a failure, not a skip
            results.append((t.__name__, False, repr(e)))
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    for name, ok, detail in results:
        if ok:
            print(f"ok {name}")
        else:
            print(f"FAIL {name}\n    {str(detail)[:600]}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
