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
          p.returncode == 1 and "WBEM_E_NOT_AVAILABLE (0x80041009)" in p.stderr
          and "/nonexistent/smb.conf" in p.stderr and p.stdout == "", p.stderr)
    p = smbcim("--snapshot", FS01, "--smb-conf", "/etc/samba/smb.conf", "query",
               "SELECT * FROM Win32_Share")
    check("--snapshot with --smb-conf: usage error", p.returncode == 2, p.stderr)


def test_errors():
    p = smbcim("--snapshot", FS01, "query", "SELECT * FORM Win32_Share")
    check("syntax error: code, column, exit 1", p.returncode == 1 and
          p.stderr.startswith("smbcim: WBEM_E_INVALID_QUERY (0x80041017): ") and "column 10" in p.stderr
          and p.stdout == "", p.stderr)
    p = smbcim("--snapshot", FS01, "query", "SELECT * FROM Win32_Shares")
    check("unknown class: WBEM_E_INVALID_CLASS", p.returncode == 1 and
          "WBEM_E_INVALID_CLASS (0x80041010)" in p.stderr and "column 15" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "get", 'Win32_Share.Name="nope"')
    check("missing instance: WBEM_E_NOT_FOUND", p.returncode == 1 and
          "WBEM_E_NOT_FOUND (0x80041002)" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "get", 'Win32_Share.Name="x",')
    check("bad path: WBEM_E_INVALID_OBJECT_PATH with position", p.returncode == 1 and
          "WBEM_E_INVALID_OBJECT_PATH (0x8004103A)" in p.stderr and "position" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "query", "  ")
    check("blank query: WBEM_E_INVALID_PARAMETER", p.returncode == 1 and
          "WBEM_E_INVALID_PARAMETER (0x80041008): the query is empty" in p.stderr, p.stderr)
    p = smbcim("--snapshot", FS01, "get", "")
    check("empty path: WBEM_E_INVALID_PARAMETER", p.returncode == 1 and
          "WBEM_E_INVALID_PARAMETER" in p.stderr, p.stderr)
    p = smbcim("--snapshot", "/nonexistent/snap.json", "enum", "Win32_Share")
    check("unreadable snapshot names the file", p.returncode == 1 and "/nonexistent/snap.json" in p.stderr, p.stderr)
    bad = os.path.join(ROOT, "tests", "fixtures", "bad")
    if os.path.isdir(bad):
        for f in sorted(os.listdir(bad)):
            p = smbcim("--snapshot", os.path.join(bad, f), "enum", "Win32_Share")
            check(f"bad snapshot {f} rejected", p.returncode == 1 and "WBEM_E_" in p.stderr and
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
          any('ShareName="Projects"' in c for r in rows for c in r), p.stdout[:300])
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
    check("a bad snapshot on stdin is named <stdin>", p.returncode == 1 and
          b"<stdin>: line 1, column 2" in p.stderr, p.stderr)


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
    p = smbcim("class", "Win32_Nope")
    check("class: unknown class", p.returncode == 1 and "WBEM_E_INVALID_CLASS" in p.stderr, p.stderr)
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
                for path in (o["Antecedent"], o["Dependent"], o["__PATH"]):
                    g = smbcim("--snapshot", snap, "--format", "json", "get", path)
                    if g.returncode != 0 or json.loads(g.stdout)[0]["__PATH"] != path:
                        bad.append(path)
        check(f"{fixture}: every association REF and __PATH resolves with get", not bad, bad[:3])


def main():
    for t in (test_help_and_usage, test_errors, test_formats, test_stdin, test_commands):
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
