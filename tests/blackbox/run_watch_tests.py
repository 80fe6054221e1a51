#!/usr/bin/env python3
"""Black-box tests of `smbcim watch` (and `smbcim query` given an event
query): a recorded sequence of states (tests/fixtures/events/, described in
tests/fixtures/make_fixtures.py) replayed through the CLI must yield the
events it implies, in every format; --count, --timeout, SIGINT and SIGTERM
stop it with exit status 0 and nothing half-printed; the errors Windows
gives for a bad event query come with their codes, columns and exit
statuses.  Runs build/smbcim (or $SMBCIM).  Ends with "N passed, N failed".
"""
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
FIX = os.path.join(ROOT, "tests", "fixtures")
EVENTS = os.path.join(FIX, "events")
STATES = sorted(os.path.join(EVENTS, f) for f in os.listdir(EVENTS) if f.endswith(".json"))
NOWAIT = dict(os.environ, SMBCIM_WATCH_NOWAIT="1")
WAIT = {k: v for k, v in os.environ.items() if k != "SMBCIM_WATCH_NOWAIT"}
CREATED_CONN = ("SELECT * FROM __InstanceCreationEvent WITHIN 1 "
                "WHERE TargetInstance ISA 'Win32_ServerConnection'")
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def smbcim(*args, env=NOWAIT, timeout=60):
    return subprocess.run([SMBCIM] + list(args), capture_output=True, text=True, env=env,
                          timeout=timeout)


def watch(query, *extra, states=(EVENTS,), fmt="json", env=NOWAIT):
    args = []
    for s in states:
        args += ["--snapshot", s]
    return smbcim(*args, "--format", fmt, "watch", query, *extra, env=env)


def events_of(p):
    """The JSON events of a run (one object per line), or None."""
    try:
        # "\n" only: str.splitlines() would also cut at U+2028, U+0085 ...
        return [json.loads(line) for line in p.stdout.split("\n") if line]
    except ValueError:
        return None


def conn(ev):
    t = ev["TargetInstance"]
    return (t["ComputerName"], t["ShareName"], t["UserName"])


def ticks(hms):
    """TIME_CREATED of 2026-11-24 hms UTC: 100 ns since 1601-01-01."""
    import calendar
    h, m, s = (int(x) for x in hms.split(":"))
    return (calendar.timegm((2026, 11, 24, h, m, s)) + 11644473600) * 10000000


def test_replay():
    p = watch(CREATED_CONN)
    ev = events_of(p)
    want = [("10.0.0.9", "Public", "carol"), ("10.0.0.9", "IPC$", "carol"),
            ("10.0.0.11", "Projects", "dave"), ("10.0.0.11", "Finance", "dave"),
            ("10.0.0.12", "Projects", "erin")]
    check("replay: the creations the sequence implies, in order, exit 0",
          p.returncode == 0 and ev is not None and [conn(e) for e in ev] == want,
          (p.returncode, p.stderr, p.stdout[:300]))
    if ev:
        e = ev[0]
        check("an event: __InstanceCreationEvent, no path, SECURITY_DESCRIPTOR null",
              e["__CLASS"] == "__InstanceCreationEvent" and e["__GENUS"] == 2
              and e["__PATH"] is None and e["__RELPATH"] is None and e["__SERVER"] is None
              and e["__SUPERCLASS"] == "__InstanceOperationEvent"
              and e["__DERIVATION"] == ["__InstanceOperationEvent", "__Event",
                                        "__IndicationRelated", "__SystemClass"]
              and e["SECURITY_DESCRIPTOR"] is None, e)
        check("TIME_CREATED: the state's time in 100 ns since 1601, one tick apart",
              [x["TIME_CREATED"] for x in ev] ==
              [ticks("12:00:01"), ticks("12:00:01") + 1, ticks("12:00:10"),
               ticks("12:00:10") + 1, ticks("12:00:10") + 2], [x["TIME_CREATED"] for x in ev])
        t = e["TargetInstance"]
        check("TargetInstance: the whole instance, with its path",
              t["__CLASS"] == "Win32_ServerConnection" and t["ActiveTime"] == 0
              and t["NumberOfUsers"] == 1 and t["ConnectionID"] == 304
              and t["__PATH"].startswith("\\\\EV01\\root\\cimv2:Win32_ServerConnection."), t)
    p2 = watch(CREATED_CONN, states=STATES)
    check("the files given one by one replay as the directory does",
          p2.returncode == 0 and p2.stdout == p.stdout, (p2.stderr, p2.stdout[:200]))
    p3 = smbcim("--snapshot", EVENTS, "--format", "json", "query", CREATED_CONN)
    check("query given an event query watches as watch does",
          p3.returncode == 0 and p3.stdout == p.stdout, (p3.returncode, p3.stderr))


def test_where():
    p = watch(CREATED_CONN + " AND TargetInstance.ShareName != 'IPC$'")
    ev = events_of(p) or []
    check("ShareName != 'IPC$' leaves out the IPC$ connection",
          p.returncode == 0 and [c[1] for c in map(conn, ev)] == ["Public", "Projects", "Finance",
                                                                   "Projects"], p.stdout[:300])
    p = watch("SELECT * FROM __InstanceDeletionEvent WITHIN 1 "
              "WHERE TargetInstance ISA 'Win32_ServerConnection'")
    ev = events_of(p) or []
    # carol's two in the order of the state before (04: lists reversed)
    check("deletions: bob (03), then carol's two (05), with the state they had",
          p.returncode == 0 and [conn(e) for e in ev] ==
          [("10.0.0.7", "Projects", "bob"), ("10.0.0.9", "IPC$", "carol"),
           ("10.0.0.9", "Public", "carol")] and ev[0]["TargetInstance"]["ActiveTime"] == 1802
          and ev[1]["TargetInstance"]["ActiveTime"] == 2, p.stdout[:300])
    p = watch("SELECT * FROM __InstanceModificationEvent WITHIN 1 WHERE TargetInstance ISA "
              "'Win32_ServerConnection' AND PreviousInstance.NumberOfFiles = 1 AND "
              "TargetInstance.NumberOfFiles = 2")
    ev = events_of(p) or []
    check("a modification carries PreviousInstance and TargetInstance",
          p.returncode == 0 and len(ev) == 1 and conn(ev[0]) == ("10.0.0.5", "Projects", "alice")
          and ev[0]["PreviousInstance"]["NumberOfFiles"] == 1
          and ev[0]["TargetInstance"]["NumberOfFiles"] == 2
          and ev[0]["TIME_CREATED"] == ticks("12:00:02"), p.stdout[:300])
    p = watch("SELECT * FROM __InstanceOperationEvent WITHIN 1",
              states=(STATES[3], STATES[4]))
    check("the same state with every list in another order: no event at all",
          p.returncode == 0 and p.stdout == "", (p.returncode, p.stdout[:300], p.stderr))
    p = watch("SELECT * FROM __InstanceOperationEvent WITHIN 1 WHERE TargetInstance ISA "
              "'Win32_ServerSession' AND __CLASS <> '__InstanceModificationEvent'")
    ev = events_of(p) or []
    check("__InstanceOperationEvent: creations and deletions of sessions, each once",
          p.returncode == 0 and [(e["__CLASS"][10:14], e["TargetInstance"]["UserName"])
                                 for e in ev] ==
          [("Crea", "carol"), ("Dele", "bob"), ("Crea", "dave"), ("Crea", "erin"),
           ("Dele", "carol")], p.stdout[:300])
    p = watch("SELECT TargetInstance FROM __InstanceCreationEvent WITHIN 1 WHERE "
              "TargetInstance ISA 'Win32_Share'")
    check("no share appears: nothing", p.returncode == 0 and p.stdout == "", p.stdout[:200])
    p = watch("SELECT TargetInstance.UserName FROM __InstanceCreationEvent WITHIN 1 WHERE "
              "TargetInstance ISA 'Win32_ServerSession'", "--count", "1")
    ev = events_of(p) or [{}]
    check("a SELECT list: only TargetInstance (whole), __PROPERTY_COUNT 1",
          p.returncode == 0 and set(ev[0]) - {k for k in ev[0] if k.startswith("__")} ==
          {"TargetInstance"} and ev[0]["__PROPERTY_COUNT"] == 1
          and ev[0]["TargetInstance"]["ComputerName"] == "10.0.0.9", p.stdout[:300])


def test_group():
    q = CREATED_CONN + " GROUP WITHIN 5 BY TargetInstance.ShareName"
    p = watch(q + " HAVING NumberOfEvents > 1")
    ev = events_of(p) or []
    check("GROUP WITHIN 5 BY ShareName HAVING NumberOfEvents > 1: one __AggregateEvent",
          p.returncode == 0 and len(ev) == 1 and ev[0]["__CLASS"] == "__AggregateEvent"
          and ev[0]["NumberOfEvents"] == 2
          and ev[0]["Representative"]["__CLASS"] == "__InstanceCreationEvent"
          and conn(ev[0]["Representative"]) == ("10.0.0.11", "Projects", "dave")
          and ev[0]["__SUPERCLASS"] == "__IndicationRelated", p.stdout[:400])
    p = watch(q)
    ev = events_of(p) or []
    got = [(e["Representative"]["TargetInstance"]["ShareName"], e["NumberOfEvents"]) for e in ev]
    check("without HAVING: every group, when its 5 s are over",
          p.returncode == 0 and got == [("Public", 1), ("IPC$", 1), ("Projects", 2),
                                        ("Finance", 1)], got)


def test_formats():
    p = watch(CREATED_CONN, fmt="table")
    blocks = [b for b in p.stdout.split("\n\n") if b.strip()]
    check("table: a block per event: the event line, then the TargetInstance row",
          p.returncode == 0 and len(blocks) == 5
          and blocks[0].startswith("__InstanceCreationEvent  TIME_CREATED=")
          and "(2026-11-24 12:00:01.000000 UTC)" in blocks[0]
          and "\nTargetInstance 10.0.0.9" in blocks[0] and "ShareName" in blocks[0], p.stdout[:400])
    p = watch("SELECT * FROM __InstanceModificationEvent WITHIN 1 WHERE TargetInstance ISA "
              "'Win32_ServerConnection' AND TargetInstance.NumberOfFiles = 2 AND "
              "PreviousInstance.NumberOfFiles = 1", fmt="table")
    lines = p.stdout.splitlines()
    check("table: a modification shows PreviousInstance above TargetInstance",
          len(lines) >= 5 and lines[3].startswith("PreviousInstance") and
          lines[4].startswith("TargetInstance"), p.stdout)
    p = watch(CREATED_CONN, fmt="list")
    blocks = [b for b in p.stdout.split("\n\n") if b.strip()]
    check("list: a block per event, __CLASS first, embedded properties dotted",
          p.returncode == 0 and len(blocks) == 5 and blocks[0].startswith(
              "__CLASS=__InstanceCreationEvent\n") and "\nTargetInstance.ShareName=Public\n" in
          blocks[0] and "\nTargetInstance.__CLASS=Win32_ServerConnection" in blocks[0],
          p.stdout[:400])
    p = watch(CREATED_CONN, fmt="csv")
    rows = list(csv.reader(io.StringIO(p.stdout)))
    check("csv: one header, a row per event (Node first)",
          p.returncode == 0 and len(rows) == 6 and rows[0][:2] == ["Node", "__CLASS"]
          and "TargetInstance.ShareName" in rows[0] and rows[1][0] == "EV01"
          and rows[1][rows[0].index("TargetInstance.ShareName")] == "Public", rows[:2])
    p = watch(CREATED_CONN, fmt="mof")
    check("mof: instance of the event, the TargetInstance nested",
          p.returncode == 0 and p.stdout.count("instance of __InstanceCreationEvent\n{") == 5
          and "\tTargetInstance = instance of Win32_ServerConnection\n\t{\n" in p.stdout
          and "\t\tShareName = \"Public\";\n" in p.stdout, p.stdout[:400])
    # data that could steer a terminal or a spreadsheet stays harmless
    hostile = [os.path.join(FIX, "empty.json"), os.path.join(FIX, "hostile.json")]
    q = "SELECT * FROM __InstanceCreationEvent WITHIN 1"
    for fmt in ("table", "list", "csv", "mof"):
        p = watch(q, states=hostile, fmt=fmt)
        check("%s: hostile names reach the screen escaped" % fmt,
              p.returncode == 0 and "\x1b" not in p.stdout and "\x07" not in p.stdout
              and "\u202e" not in p.stdout and "red" in p.stdout, (p.returncode, p.stderr))
    p = watch(q, states=hostile, fmt="csv")
    check("csv: a formula in the data is neutralised", "\"'=cmd|" in p.stdout, p.stdout[:300])
    p = watch(q, states=hostile, fmt="json")
    ev = events_of(p) or []
    names = {e["TargetInstance"].get("Name") for e in ev}
    check("json keeps the data exact", "red\x1b[31mALERT\x1b[0m" in names, sorted(map(str, names))[:5])


def test_stopping():
    p = watch(CREATED_CONN, "--count", "2")
    ev = events_of(p)
    check("--count 2: two events, exit 0", p.returncode == 0 and ev is not None and len(ev) == 2,
          (p.returncode, p.stdout[:200]))
    t0 = time.time()
    p = watch("SELECT * FROM __InstanceCreationEvent WITHIN 0.2 WHERE TargetInstance ISA "
              "'Win32_ServerConnection'", env=WAIT)
    dt = time.time() - t0
    check("without SMBCIM_WATCH_NOWAIT: one state per WITHIN interval (6 x 0.2 s)",
          p.returncode == 0 and 1.1 < dt < 10 and len(events_of(p) or []) == 5, (dt, p.stderr))
    t0 = time.time()
    p = watch(CREATED_CONN, "--timeout", "1.5", env=WAIT)
    dt = time.time() - t0
    ev = events_of(p)
    check("--timeout 1.5 (WITHIN 1): the first poll's events, then exit 0",
          p.returncode == 0 and 1.3 < dt < 4 and ev is not None and
          [c[2] for c in map(conn, ev)] == ["carol", "carol"], (dt, p.returncode, p.stdout[:200]))
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc = subprocess.Popen([SMBCIM, "--snapshot", EVENTS, "-f", "json", "watch",
                                 CREATED_CONN], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=WAIT)
        first = proc.stdout.readline()  # flushed as it is found (about 1 s in)
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=20)
        out = first + rest
        lines = out.splitlines()
        ok = proc.returncode == 0 and out.endswith("\n")
        try:
            ok = ok and all(json.loads(x)["__CLASS"] for x in lines) and len(lines) in (1, 2)
        except ValueError:
            ok = False
        check("%s: exit 0, every line a whole event (the first flushed at once)" % sig.name, ok,
              (proc.returncode, out[:200], err))
    with tempfile.TemporaryDirectory() as d:
        for i, s in enumerate(STATES[:3]):
            with open(s) as f, open(os.path.join(d, "%d.json" % (i * 5)), "w") as g:
                g.write(f.read())
        with open(os.path.join(d, "20.json"), "w") as g:
            g.write("{not json")
        p = watch(CREATED_CONN, states=(d,))
        ev = events_of(p.stdout and p) or []
        check("a bad snapshot in the sequence: the events before it, then its error (exit 3)",
              p.returncode == 3 and len(ev) == 2 and "WBEM_E_INVALID_PARAMETER" in p.stderr
              and "20.json" in p.stderr, (p.returncode, p.stderr, p.stdout[:200]))
        check("names order by their numbers (0, 5, 10, 20: not 0, 10, 20, 5)",
              [c[2] for c in map(conn, ev)] == ["carol", "carol"], ev)
    with tempfile.TemporaryDirectory() as d:
        p = watch(CREATED_CONN, states=(d,))
        check("a directory without snapshots: an error", p.returncode == 3 and
              "no snapshot (*.json)" in p.stderr, p.stderr)


def test_errors():
    cases = [
        ("SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA 'Win32_ServerConnection'",
         3, "WBEMESS_E_REGISTRATION_TOO_PRECISE (0x80042002): at column 15"),
        ("SELECT * FROM Win32_ServerConnection WITHIN 1", 3,
         "WBEM_E_NOT_EVENT_CLASS (0x80041059): at column 15: Win32_ServerConnection is not an "
         "event class"),
        ("SELECT * FROM __InstanceCreationEvent WITHN 1", 3,
         "WBEM_E_UNPARSABLE_QUERY (0x80041058): at column 39: expected WITHIN, WHERE, GROUP or"),
        ("SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA 'Win32_Proces'",
         3, "WBEM_E_INVALID_CLASS (0x80041010): at column 73"),
        ("SELECT * FROM __InstanceCreationEvent WITHIN 0", 3,
         "WBEM_E_INVALID_QUERY (0x80041017): at column 46"),
        ("SELECT * FROM __InstanceCreationEvent WITHIN 1 GROUP BY TargetInstance.ShareName", 3,
         "WBEM_E_MISSING_GROUP_WITHIN (0x8004105A)"),
        ("SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance.ShareName.X = 1", 3,
         "WBEM_E_PROPERTY_NOT_AN_OBJECT (0x8004105C)"),
        ("SELECT * FROM __InstanceCreationEvent WITHIN 1 GROUP WITHIN 5 BY TargetInstance", 3,
         "WBEM_E_AGGREGATING_BY_OBJECT (0x8004105D)"),
    ]
    for q, rc, msg in cases:
        p = watch(q)
        check("error: %s" % msg.split(" ")[0], p.returncode == rc and msg in p.stderr
              and p.stdout == "", (p.returncode, p.stderr))
    p = smbcim("--snapshot", EVENTS, "query", "SELECT * FROM __InstanceCreationEvent WITHN 1")
    check("query routes a bad event query to the event parser",
          p.returncode == 3 and "WBEM_E_UNPARSABLE_QUERY" in p.stderr, p.stderr)
    p = smbcim("--snapshot", STATES[0], "query", "SELECT * FROM Win32_Share WITHIN 5")
    check("a data query with WITHIN: WBEM_E_INVALID_QUERY with the hint",
          p.returncode == 3 and "WBEM_E_INVALID_QUERY" in p.stderr
          and "belong to event queries" in p.stderr, p.stderr)
    p = smbcim("--snapshot", STATES[0], "-f", "csv", "query", "SELECT Name FROM Win32_Share")
    check("query still runs data queries", p.returncode == 0 and "Projects" in p.stdout, p.stderr)
    for bad in (["--count", "0"], ["--count", "x"], ["--count", "-1"], ["--timeout", "0"],
                ["--timeout", "soon"]):
        p = watch(CREATED_CONN, *bad)
        check("usage error for %s" % " ".join(bad), p.returncode == 2 and p.stdout == "", p.stderr)
    p = smbcim("help", "watch")
    check("help watch", p.returncode == 0 and "__InstanceCreationEvent" in p.stdout
          and "--count" in p.stdout, p.stdout[:200])


def test_open_files():
    """An open file appearing between two states is an MSFT_SmbOpenFile
    creation (state 02: alice's smbd 201 opens budget.xlsx, share_file_id 12)."""
    p = watch("SELECT * FROM __InstanceOperationEvent WITHIN 1 "
              "WHERE TargetInstance ISA 'MSFT_SmbOpenFile'")
    ev = events_of(p) or []
    got = [(e["__CLASS"], e["TargetInstance"].get("FileId"),
            e["TargetInstance"].get("ShareRelativePath")) for e in ev]
    check("open files: alice's new file is one __InstanceCreationEvent with its FileId",
          p.returncode == 0 and got == [("__InstanceCreationEvent", 201 * 2**32 + 12, "budget.xlsx")],
          p.stderr or got)


def main():
    for t in (test_replay, test_where, test_group, test_formats, test_stopping, test_errors,
              test_open_files):
        try:
            t()
        except Exception as e:  # a crash of the harness is a failure, not a skip
            results.append((t.__name__, False, repr(e)))
    passed = sum(1 for r in results if r[1])
    failed = len(results) - passed
    for name, ok, detail in results:
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else "\n     %r" % (detail,)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
