#!/usr/bin/python3
"""Builds an smbcim snapshot (v1) from a running smbd.

    make_snapshot.py SMB_CONF SERVERNAME > snapshot.json

Must run as root (smbstatus needs it) and be given the smb.conf the smbd
runs with.  Sources:

* shares: `testparm -s -v SMB_CONF` (includes resolved, every parameter
  printed).  [global] holds the defaults of every share parameter; the
  templates [homes] and [printers] are skipped (a tree connect to a home
  share is kept by smbcim as a synthesized share); IPC$ is added as Samba
  does (kind ipc, path /tmp, comment "IPC Service (<server string>)",
  administrative).  `printable = yes` -> printer.  A name ending in $ is
  not administrative in Samba: only `administrative share = yes` is.
* sessions: `smbstatus -s SMB_CONF --json -p`
* tcons:    `smbstatus -s SMB_CONF --json -S`
* open_files: `smbstatus -s SMB_CONF --json -L`.  Samba < 4.24 aborts that
  run (no output) when any open has WRITE_OWNER in its access mask; then the
  text `smbstatus -s SMB_CONF -L` is parsed instead.  That fallback is
  demo-grade: it yields service_path, filename, server_id, uid and
  access_mask only, and recognises the share path against the configured
  share paths (the live C source is a separate piece of work).

Separate runs because one crashing section would lose all of them.  The
sections are read at slightly different moments; a client that comes or
goes in between shows up in one section only (smbcim copes: a tcon whose
session is missing is skipped).
"""
import datetime
import json
import os
import re
import socket
import subprocess
import sys

PROG = "make_snapshot"


class Fail(Exception):
    pass


def run(argv, check=True):
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    except FileNotFoundError:
        raise Fail("%s: command not found (install samba)" % argv[0])
    except subprocess.TimeoutExpired:
        raise Fail("%s timed out" % " ".join(argv))
    if check and p.returncode != 0:
        raise Fail("%s exited %d: %s" % (" ".join(argv), p.returncode,
                                          p.stderr.strip()[-500:]))
    return p


# --------------------------------------------------------------- shares --

def parse_testparm(text):
    """[(section, {param: value})] in file order; names lower-cased."""
    sections = []
    cur = None
    for line in text.splitlines():
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = re.match(r"^\[(.*)\]$", s)
        if m:
            cur = (m.group(1), {})
            sections.append(cur)
            continue
        if cur is None or "=" not in s:
            continue
        k, v = s.split("=", 1)
        cur[1][k.strip().lower()] = v.strip()
    return sections


def yes(v):
    return str(v).strip().lower() in ("yes", "true", "1", "on")


def samba_version():
    p = run(["smbd", "--version"], check=False)
    m = re.search(r"Version\s+(\S+)", p.stdout)
    return m.group(1) if m else ""


def substitute(s, glob):
    """The few % macros a server string usually has."""
    reps = {"%v": samba_version(), "%h": socket.gethostname(),
            "%L": glob.get("netbios name", socket.gethostname().upper()),
            "%N": glob.get("netbios name", ""), "%%": "%"}
    return re.sub(r"%[vhLN%]", lambda m: reps[m.group(0)], s)


def shares_from_conf(conf):
    out = run(["testparm", "-s", "-v", conf]).stdout
    sections = parse_testparm(out)
    if not sections or sections[0][0].lower() != "global":
        raise Fail("testparm -s -v %s: no [global] section in its output" % conf)
    glob = sections[0][1]
    shares = []
    for name, params in sections[1:]:
        if name.lower() in ("homes", "printers", "global"):
            continue       # templates (and a stray [global])

        def get(k):
            return params.get(k, glob.get(k, ""))

        if not yes(get("available") or "yes"):
            continue       # Samba refuses connections to it
        kind = "printer" if yes(get("printable")) else "disk"
        try:
            maxc = int(get("max connections") or 0)
        except ValueError:
            maxc = 0
        path = get("path")
        comment = get("comment")
        shares.append({
            "name": name,
            "kind": kind,
            "administrative": yes(get("administrative share")),
            "path": path if path else None,
            "comment": comment,
            "max_connections": max(maxc, 0),
        })
    if not any(s["name"].upper() == "IPC$" for s in shares):
        sstr = substitute(glob.get("server string", "Samba %v"), glob)
        shares.append({"name": "IPC$", "kind": "ipc", "administrative": True,
                       "path": "/tmp", "comment": "IPC Service (%s)" % sstr,
                       "max_connections": 0})
    return shares


# ------------------------------------------------------------ smbstatus --

def smbstatus_json(conf, opt):
    p = run(["smbstatus", "-s", conf, "--json", opt], check=False)
    if p.returncode != 0 or not p.stdout.strip():
        lines = p.stderr.strip().splitlines()
        why = next((l for l in lines if "PANIC" in l or "assert" in l),
                   lines[-1] if lines else "exit %d, no output" % p.returncode)
        return None, why.strip()
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, "bad JSON from smbstatus --json %s: %s" % (opt, e)


TIME_RE = re.compile(r"\s+(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\s*$")


def open_files_from_text(conf, share_paths, server_ids):
    """Parses `smbstatus -L` text (demo-grade fallback, see the module doc).

    A line looks like
      Pid  User(ID)  DenyMode  Access  R/W  Oplock  SharePath   Name   Time
    where SharePath, Name and Time may contain spaces; SharePath and Name
    are separated by three spaces; SharePath is matched against the known
    share paths first."""
    p = run(["smbstatus", "-s", conf, "-L"])
    files = {}
    paths = sorted({sp for sp in share_paths if sp}, key=len, reverse=True)
    seq = {}
    for line in p.stdout.splitlines():
        f = line.split(None, 6)
        if len(f) < 7 or not f[0].isdigit() or not f[1].lstrip("-").isdigit() \
                or not f[3].lower().startswith("0x"):
            continue
        pid, uid, access, rest = f[0], int(f[1]), f[3], f[6]
        m = TIME_RE.search(rest)
        opened_at = None
        if m:
            rest = rest[:m.start()]
            try:   # smbstatus prints the local time of its own process
                t = datetime.datetime.strptime(" ".join(m.group(1).split()),
                                               "%a %b %d %H:%M:%S %Y")
                opened_at = t.astimezone().isoformat(timespec="microseconds")
            except ValueError:
                pass
        sp = next((x for x in paths if rest.startswith(x + "   ")), None)
        if sp is not None:
            name = rest[len(sp) + 3:].strip()
        elif "   " in rest:
            sp, name = rest.split("   ", 1)
            name = name.strip()
        else:
            continue
        key = sp + "/" + name
        ent = files.setdefault(key, {"service_path": sp, "filename": name,
                                     "num_pending_deletes": 0, "opens": {}})
        seq[pid] = seq.get(pid, 0) + 1
        # The text lacks the unique_id; take the one the sessions/tcons
        # report for this pid, so the open matches its connection.
        sid = dict(server_ids.get(pid, {"pid": pid}))
        op = {"server_id": sid, "uid": uid,
              "access_mask": {"hex": "0x%08x" % int(access, 16)}}
        if opened_at:
            op["opened_at"] = opened_at
        ent["opens"]["%s/text%d" % (pid, seq[pid])] = op
    return files


def main(argv):
    if len(argv) != 3:
        print("usage: make_snapshot.py SMB_CONF SERVERNAME > snapshot.json", file=sys.stderr)
        return 2
    conf, server = argv[1], argv[2]
    if not os.path.isfile(conf):
        raise Fail("%s: no such file" % conf)
    if os.geteuid() != 0:
        raise Fail("must run as root (smbstatus reads smbd's lock directory)")
    shares = shares_from_conf(conf)
    taken_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")

    doc = {}
    sess, err = smbstatus_json(conf, "-p")
    if sess is None:
        raise Fail("smbstatus --json -p failed (%s); Samba 4.17+ is needed for --json" % err)
    tcons, err = smbstatus_json(conf, "-S")
    if tcons is None:
        raise Fail("smbstatus --json -S failed (%s)" % err)
    for k in ("timestamp", "version", "smb_conf"):
        if k in sess:
            doc[k] = sess[k]
    doc["sessions"] = sess.get("sessions", {})
    doc["tcons"] = tcons.get("tcons", {})

    opens, err = smbstatus_json(conf, "-L")
    if opens is not None:
        doc["open_files"] = opens.get("open_files", {})
    else:
        print("%s: smbstatus --json -L failed (%s); using the text smbstatus -L "
              "(demo-grade fallback; Samba < 4.24 aborts on WRITE_OWNER opens)" % (PROG, err),
              file=sys.stderr)
        server_ids = {}
        for rec in list(doc["sessions"].values()) + list(doc["tcons"].values()):
            sid = rec.get("server_id") or {}
            if sid.get("pid"):
                server_ids[str(sid["pid"])] = sid
        doc["open_files"] = open_files_from_text(
            conf, [s["path"] for s in shares if s.get("path")], server_ids)

    snap = {
        "smbcim_snapshot": 1,
        "server": {"name": server, "taken_at": taken_at},
        "shares": shares,
        "smbstatus": doc,
    }
    json.dump(snap, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Fail as e:
        print("%s: error: %s" % (PROG, e), file=sys.stderr)
        sys.exit(1)
