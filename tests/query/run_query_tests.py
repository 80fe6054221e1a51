#!/usr/bin/env python3
"""Table-driven query tests: tests/query/*.cases, run with the smbcim CLI
over the snapshot fixtures in tests/fixtures/.

A .cases file is a list of blocks:

    @fixture fs01.json                      (applies to the blocks after it)

    === what the case checks
    SELECT Name, Type FROM Win32_Share WHERE Name = 'Finance Data'
    --- rows Name Type                      (columns to compare)
    Finance Data<TAB>0                      (one line per expected object)

The line after "===" is a WQL query, or a CLI command when it starts with
"get ", "enum " or "names " (the rest of the line is its argument).
Expectations:
    --- rows COL...         rows compared as a sorted multiset
    --- ordered rows COL... rows compared in order
    --- count N             only the number of objects
    --- error NAME [TEXT]   the command fails with WBEM status NAME and the
                            message contains TEXT (quotes optional)
Values: <null> for NULL, TRUE/FALSE for booleans, numbers in decimal,
strings and paths raw; \\t and \\n inside expected values stand for tab
and newline.
"""
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")



def exit_for(status):
    """smbcim's exit status for a WBEM status (man/smbcim.1, EXIT STATUS)."""
    if status == "WBEM_E_NOT_FOUND":
        return 4
    if status == "WBEM_E_ACCESS_DENIED":
        return 5
    if status == "WBEM_E_NOT_AVAILABLE":
        return 6
    if status == "WBEM_E_QUOTA_VIOLATION":
        return 7
    if status.startswith("WBEM_E_INVALID_") or status in ("WBEM_E_TYPE_MISMATCH", "WBEM_E_NOT_SUPPORTED"):
        return 3
    return 1

def cell(v):
    if v is None:
        return "<null>"
    if v is True:
        return "TRUE"
    if v is False:
        return "FALSE"
    if isinstance(v, list):
        return "{" + ",".join(cell(x) for x in v) + "}"
    return str(v)


def unescape(s):
    return s.replace("\\t", "\t").replace("\\n", "\n")


def parse_cases(path):
    cases = []
    fixture = None
    cur = None
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if cur is None or cur.get("expect") is None:
                if not line.strip() or line.startswith("#"):
                    continue
            if line.startswith("@fixture "):
                fixture = line.split(None, 1)[1].strip()
                continue
            if line.startswith("=== "):
                cur = {"name": line[4:].strip(), "fixture": fixture, "cmd": None,
                       "expect": None, "rows": [], "where": f"{os.path.basename(path)}:{lineno}"}
                cases.append(cur)
                continue
            if cur is None:
                raise SystemExit(f"{path}:{lineno}: text before the first ===")
            if line.startswith("--- "):
                words = line[4:].split()
                cur["expect"] = words
                continue
            if cur["expect"] is None:
                if cur["cmd"] is None:
                    cur["cmd"] = line.strip()
                else:  # a long query continued on the next line
                    cur["cmd"] += " " + line.strip()
                continue
            if line.startswith("#"):
                continue
            if line == "" and cur["expect"][0] != "rows" and cur["expect"][:2] != ["ordered", "rows"]:
                continue
            if line == "":
                continue
            cur["rows"].append(line)
    return cases


def run_case(c):
    cmd = c["cmd"]
    if not cmd:
        return "the case has no query or command line"
    argv = [SMBCIM]
    if c["fixture"]:
        argv += ["--snapshot", os.path.join(FIXTURES, c["fixture"])]
    argv += ["--format", "json"]
    for verb in ("get ", "enum ", "names "):
        if cmd.startswith(verb):
            argv += [verb.strip(), cmd[len(verb):]]
            break
    else:
        argv += ["query", cmd]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    exp = c["expect"]
    if exp is None:
        return "no expectation given"
    if exp[0] == "error":
        want = exp[1]
        text = " ".join(exp[2:]).strip('"') if len(exp) > 2 else ""
        if p.returncode == 0:
            return f"expected {want}, but it succeeded: {p.stdout[:300]}"
        if p.returncode != exit_for(want):
            return f"expected exit {exit_for(want)}, got {p.returncode}: {p.stderr.strip()}"
        if f"smbcim: {want} (0x" not in p.stderr:
            return f"expected {want}, got: {p.stderr.strip()}"
        if text and text not in p.stderr:
            return f"expected message containing {text!r}, got: {p.stderr.strip()}"
        return None
    if p.returncode != 0:
        return f"failed (exit {p.returncode}): {p.stderr.strip()}"
    try:
        data = json.loads(p.stdout)
    except ValueError as e:
        return f"output is not JSON ({e}): {p.stdout[:300]}"
    if cmd.startswith("names "):
        data = [{"__PATH": x} for x in data]
    if exp[0] == "count":
        if len(data) != int(exp[1]):
            return f"expected {exp[1]} objects, got {len(data)}"
        return None
    ordered = exp[0] == "ordered"
    cols = exp[2:] if ordered else exp[1:]
    got = []
    for obj in data:
        row = []
        for col in cols:
            if col not in obj:
                row.append("<absent>")
            else:
                row.append(cell(obj[col]))
        got.append("\t".join(row))
    want = [unescape(r) for r in c["rows"]]
    if not ordered:
        got, want = sorted(got), sorted(want)
    if got != want:
        return ("rows differ\n      want:\n        " + "\n        ".join(want) +
                "\n      got:\n        " + "\n        ".join(got))
    return None


def main():
    files = sorted(glob.glob(os.path.join(HERE, "*.cases")))
    passed = failed = 0
    for path in files:
        for c in parse_cases(path):
            try:
                problem = run_case(c)
            except subprocess.TimeoutExpired:
                problem = "timed out"
            if problem:
                failed += 1
                print(f"FAIL {c['where']} {c['name']}\n    {c['cmd']}\n    {problem}")
            else:
                passed += 1
                print(f"ok {c['where']} {c['name']}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
