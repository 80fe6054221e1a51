#!/usr/bin/env python3
"""End-to-end test: a real (throwaway) Samba smbd, real SMB clients, a
snapshot, and smbcim's answers checked against what Samba itself reports.

    python3 tests/e2e/run_e2e.py         (as root; builds nothing: run make first)

Set-up (demo/lib.sh, driven through one bash process that stops and removes
everything when its stdin closes, which also happens if this test dies):
a private smbd on 127.0.0.1:<free port>, users smbcim_alice and smbcim_bob.
Clients (tests/e2e/smb_holder.py, python3-impacket, one process):

  alice-1  one session: Projects (2 files open) + Finance Data  (2 tcons, 1 session)
  alice-2  a second session of alice: Projects again           (merges with alice-1's)
  bob      one session: Finance Data (1 file open) + IPC$ + his home share

Phase 1 compares against `smbstatus --json` (one run, all sections).
Phase 2 adds an open with WRITE_OWNER in its access mask (0x1F01FF, what
Windows programs often ask for): Samba < 4.24 then aborts
`smbstatus --json`, so the snapshot uses the text fallback for opens and the
truth comes from `--json -p`, `--json -S` and text `smbstatus -L`.

Prints "ok ..." / "FAIL ..." per check ("info ..." lines are not checks)
and ends with "N passed, N failed".
Environment: SMBCIM (binary, default build/smbcim), SMBCIM_DEMO_PORT,
SMBCIM_E2E_KEEP=1 (keep the snapshots in /tmp/smbcim-e2e-*.json),
SMBCIM_CHROOT=trixie|sid (another Samba release, see below),
SMBCIM_E2E_EXPECT_ROUTE=tdb|smbstatus|any: the route smbcim must take to
read the live server (default tdb on the host, any in a chroot; the route
taken is always printed as an "info" line).

With SMBCIM_CHROOT, Samba is the one of that chroot of scripts/chroot.sh
(trixie: 4.22, sid: 4.25): smbd, smbstatus, testparm, net, the users and
the temp dir are the chroot's, and smbcim itself (SMBCIM, copied into the
temp dir) and demo/make_snapshot.py run inside it, so every path smbcim
reports and the test compares is the one inside the chroot.  Only the SMB
clients run on the host (smbd listens on 127.0.0.1).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import read_line  # noqa: E402
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
LIB = os.path.join(ROOT, "demo", "lib.sh")
HOLDER = os.path.join(ROOT, "tests", "e2e", "smb_holder.py")
MKSNAP = os.path.join(ROOT, "demo", "make_snapshot.py")
PY = os.environ.get("SMBCIM_DEMO_PYTHON", "/usr/bin/python3")   # has python3-impacket
SERVER = "E2ESRV"
CHROOT_SH = os.path.join(ROOT, "scripts", "chroot.sh")
CHROOT = os.environ.get("SMBCIM_CHROOT", "")
CROOT = ""          # the chroot's root dir ("" on the host)
EXPECT_ROUTE = os.environ.get("SMBCIM_E2E_EXPECT_ROUTE", "any" if CHROOT else "tdb")
# What runs smbcim: SMBCIM itself on the host; in a chroot, its copy there.
SMBCIM_RUN = SMBCIM

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   %s" % name, flush=True)
    else:
        failed += 1
        d = str(detail)
        if len(d) > 600:
            d = d[:600] + "..."
        print("FAIL %s%s" % (name, (" -- " + d) if d else ""), flush=True)
    return bool(cond)


def info(text):
    print("info %s" % text, flush=True)


class SetupError(Exception):
    pass


# ------------------------------------------------- host or chroot (Samba) --

# Commands that run in a chroot get a PATH of the chroot's own directories.
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def chroot_init():
    global CROOT
    if not CHROOT:
        return
    if CHROOT not in ("trixie", "sid"):
        raise SetupError("SMBCIM_CHROOT=%s: trixie or sid" % CHROOT)
    p = subprocess.run(["bash", CHROOT_SH, "run", CHROOT, "true"], capture_output=True,
                       text=True, timeout=60)      # mounts /proc and /dev there
    if p.returncode != 0:
        raise SetupError("chroot %s: %s" % (CHROOT, p.stderr.strip()))
    CROOT = subprocess.run(["bash", CHROOT_SH, "path", CHROOT], capture_output=True,
                           text=True, timeout=60, check=True).stdout.strip()


def inside(argv):
    """argv run where Samba runs (chroot(8) execs it there)."""
    return ["chroot", CROOT] + list(argv) if CHROOT else list(argv)


def run_in(argv, env=None, timeout=60):
    if CHROOT:
        env = dict(env if env is not None else os.environ, PATH=CHROOT_PATH)
    return subprocess.run(inside(argv), capture_output=True, text=True, timeout=timeout,
                          env=env)


def hpath(p):
    """A path as smbd sees it (in the chroot) -> the same file from the host."""
    return CROOT + p if CHROOT else p


def mkdtemp_in(prefix):
    """A temp dir where Samba runs: (host path, path there)."""
    h = tempfile.mkdtemp(prefix=prefix, dir=os.path.join(CROOT, "tmp") if CHROOT else None)
    return h, (h[len(CROOT):] if CHROOT else h)


def user_exists(u):
    return run_in(["getent", "passwd", u]).returncode == 0


def install_smbcim(server):
    """In a chroot: SMBCIM copied into the temp dir there (it needs only
    libc and libtdb)."""
    global SMBCIM_RUN
    if not CHROOT:
        return
    os.makedirs(hpath(server.dir + "/bin"), exist_ok=True)
    shutil.copy(SMBCIM, hpath(server.dir + "/bin/smbcim"))
    os.chmod(hpath(server.dir + "/bin/smbcim"), 0o755)
    SMBCIM_RUN = server.dir + "/bin/smbcim"
    p = run_in([SMBCIM_RUN, "--version"])
    check("setup: smbcim copied into the chroot runs there (%s)" % SMBCIM_RUN,
          p.returncode == 0, p.stdout + p.stderr + run_in(["ldd", SMBCIM_RUN]).stdout)




# ------------------------------------------------------------------ set-up --

SERVER_SCRIPT = r'''
set -euo pipefail
. "$1"
trap smbcim_demo_cleanup EXIT
smbcim_demo_deps
smbcim_demo_lock
smbcim_demo_setup
smbcim_demo_start
printf 'READY %s\t%s\t%s\t%s\t%s\n' "$SMBCIM_DEMO_DIR" "$SMBCIM_DEMO_CONF" "$SMBCIM_DEMO_PORT" "$SMBCIM_DEMO_PID" "$SMBCIM_DEMO_HOSTDIR"
cat >/dev/null    # hold until the test closes our stdin (or dies)
'''


class Server:
    """smbd via demo/lib.sh; stops and cleans up when stdin closes."""

    def __init__(self):
        self.proc = subprocess.Popen(["bash", "-c", SERVER_SCRIPT, "e2e-server", LIB],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = read_line(self.proc, 240, "smbd set-up (demo/lib.sh)", SetupError)
        if not line.startswith("READY "):
            raise SetupError("smbd set-up said: %s" % line)
        # dir and conf: as smbd sees them; hostdir: dir from the host.
        self.dir, self.conf, port, self.pid, self.hostdir = line[6:].split("\t")
        self.port = int(port)
        self.password = os.environ.get("SMBCIM_DEMO_PASSWORD", "Demo-Pass-1")

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except Exception:
                pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()     # our own bash; its trap does not run then
                self.proc.wait()


class Holder:
    def __init__(self, server, connections, tag, timeout=60):
        plan = {"host": "127.0.0.1", "port": server.port, "password": server.password,
                "max_hold": max(240, timeout * 4), "connections": connections}
        self.plan_path = os.path.join(server.hostdir, "plan-%s.json" % tag)
        with open(self.plan_path, "w") as f:
            json.dump(plan, f)
        self.proc = subprocess.Popen([PY, HOLDER, self.plan_path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = read_line(self.proc, timeout, "SMB clients (%s)" % tag, SetupError)
        rep = json.loads(line)
        if not rep.get("ready"):
            raise SetupError("SMB clients (%s): %s" % (tag, rep.get("error")))
        self.report = rep

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except Exception:
                pass
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------- Samba's truth --

def smbstatus(conf, *args):
    return run_in(["smbstatus", "-s", conf] + list(args))


def sid_key(sid):
    return (str(sid.get("pid")), str(sid.get("unique_id", "")))


def truth_from_json(doc):
    opens = []
    for f in (doc.get("open_files") or {}).values():
        for o in f.get("opens", {}).values():
            opens.append({"server": sid_key(o["server_id"]), "pid": str(o["server_id"]["pid"]),
                          "uid": o["uid"], "path": f["service_path"], "name": f["filename"],
                          # FileId: the pid and share_file_id (docs/values.md)
                          "file_id": int(str(o["server_id"]["pid"]).split(":")[-1]) * 2**32
                          + int(o["share_file_id"]),
                          "access": int(o["access_mask"]["hex"], 16)})
    return {"sessions": doc.get("sessions") or {}, "tcons": doc.get("tcons") or {},
            "opens": opens}


def text_lock_columns(text):
    """How many one-word columns precede SharePath in text `smbstatus -L`:
    Pid User(ID) DenyMode Access R/W Oplock (6, Samba 4.17-4.22), then
    Persistent too (7, Samba 4.25)."""
    for line in text.splitlines():
        h = line.split()
        if h[:1] == ["Pid"] and "SharePath" in h:
            return h.index("SharePath")
    return 6


def truth_text_opens(conf, share_paths, sessions):
    """Opens from text `smbstatus -L` (pid, uid, share path); the pid's
    unique_id is taken from the session records (the text lacks it)."""
    p = smbstatus(conf, "-L")
    if p.returncode != 0:
        raise SetupError("smbstatus -L failed: %s" % p.stderr)
    uniq = {str(s["server_id"]["pid"]): sid_key(s["server_id"]) for s in sessions.values()}
    paths = sorted(share_paths, key=len, reverse=True)
    ncol = text_lock_columns(p.stdout)
    opens = []
    for line in p.stdout.splitlines():
        f = line.split(None, ncol)
        if len(f) < ncol + 1 or not f[0].isdigit() or not f[3].startswith("0x"):
            continue
        rest = f[ncol]
        sp = next((x for x in paths if rest.startswith(x + "   ")), rest.split("   ")[0])
        opens.append({"server": uniq.get(f[0], (f[0], "")), "pid": f[0],
                      "uid": int(f[1]), "path": sp, "access": int(f[3], 16)})
    return opens


def bare_user(u):
    return u.split("\\", 1)[-1]


def machine(m):
    if ":" in m and not m.startswith("["):
        return "[%s]" % m
    return m


def expected(truth, share_paths_by_name):
    """Win32_ServerConnection / Win32_ServerSession values derived from
    Samba's records with Samba's own counting rules (docs/values.md)."""
    sessions = {k: s for k, s in truth["sessions"].items()
                if s.get("uid", -1) != -1 and s.get("username") != "(auth in progress)"}
    conns = {}
    for t in truth["tcons"].values():
        s = sessions.get(t["session_id"])
        if s is None:
            continue
        key = (machine(s["remote_machine"]).lower(), t["service"].lower(),
               bare_user(s["username"]).lower())
        c = conns.setdefault(key, {"machine": machine(s["remote_machine"]),
                                   "share": t["service"], "user": bare_user(s["username"]),
                                   "tcons": [], "servers": set()})
        c["tcons"].append(t)
        c["servers"].add(sid_key(t["server_id"]))
    for c in conns.values():
        path = share_paths_by_name.get(c["share"].lower())
        if path is None:
            c["files"] = None
        else:
            c["files"] = sum(1 for o in truth["opens"]
                             if o["server"] in c["servers"] and o["path"] == path)
    sess = {}
    for s in sessions.values():
        key = (machine(s["remote_machine"]).lower(), bare_user(s["username"]).lower())
        e = sess.setdefault(key, {"machine": machine(s["remote_machine"]),
                                  "user": bare_user(s["username"]), "pairs": set()})
        e["pairs"].add((sid_key(s["server_id"]), s["uid"]))
    for e in sess.values():
        e["opens"] = sum(1 for o in truth["opens"]
                         if (o["server"], o["uid"]) in e["pairs"])
    return conns, sess


# ------------------------------------------------------------------ smbcim --

def source_args(snap):
    """"live:CONF" reads the live server through CONF; anything else is a
    snapshot file."""
    if snap.startswith("live:"):
        return ["--smb-conf", snap[5:]]
    return ["--snapshot", snap]


def run_smbcim(args, env=None):
    """smbcim ARGS where Samba runs (paths in ARGS: as smbd sees them)."""
    return run_in([SMBCIM_RUN] + list(args), env=env)


def smbcim(snap, *args, env=None):
    p = run_smbcim(source_args(snap) + ["--format", "json"] + list(args), env=env)
    if p.returncode != 0:
        return None, "exit %d: %s" % (p.returncode, p.stderr.strip())
    try:
        return json.loads(p.stdout), None
    except ValueError as e:
        return None, "bad JSON: %s: %s" % (e, p.stdout[:300])


def q(snap, wql, label):
    res, err = smbcim(snap, "query", wql)
    if res is None:
        check("%s: smbcim query %s" % (label, wql), False, err)
    return res


def wql_str(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def ci(s):
    return (s or "").lower()


def run_checks(label, snap, truth, shares):
    """The check battery, for one snapshot and Samba's view at that moment."""
    paths = {s["name"].lower(): s["path"] for s in shares if s.get("path")}
    exp_conns, exp_sess = expected(truth, paths)

    conns = q(snap, "SELECT * FROM Win32_ServerConnection", label)
    if conns is None:
        return
    by_key = {}
    for c in conns:
        by_key.setdefault((ci(c.get("ComputerName")), ci(c.get("ShareName")),
                           ci(c.get("UserName"))), []).append(c)

    for t in truth["tcons"].values():
        s = truth["sessions"].get(t["session_id"])
        if s is None:
            continue
        key = (machine(s["remote_machine"]).lower(), t["service"].lower(),
               bare_user(s["username"]).lower())
        check("%s: tcon %s (%s, %s, %s) has a Win32_ServerConnection"
              % (label, t["tcon_id"], key[0], t["service"], key[2]),
              len(by_key.get(key, [])) == 1, sorted(by_key))
    check("%s: Win32_ServerConnection count = merged tcons (%d)" % (label, len(exp_conns)),
          len(conns) == len(exp_conns), [c.get("__RELPATH") for c in conns])
    for key, e in sorted(exp_conns.items()):
        got = by_key.get(key, [None])[0]
        if got is None:
            continue
        check("%s: %s NumberOfUsers = %d" % (label, got["__RELPATH"], len(e["tcons"])),
              got.get("NumberOfUsers") == len(e["tcons"]), got.get("NumberOfUsers"))
        check("%s: %s NumberOfFiles = %s" % (label, got["__RELPATH"], e["files"]),
              got.get("NumberOfFiles") == e["files"], got.get("NumberOfFiles"))
        oldest = min(e["tcons"], key=lambda t: t["connected_at"])
        check("%s: %s ConnectionID = oldest tcon id" % (label, got["__RELPATH"]),
              str(got.get("ConnectionID")) == str(oldest["tcon_id"]), got.get("ConnectionID"))

    # Win32_ConnectionShare
    cs = q(snap, "SELECT * FROM Win32_ConnectionShare", label)
    if cs is not None:
        check("%s: Win32_ConnectionShare count = Win32_ServerConnection count (%d)"
              % (label, len(conns)), len(cs) == len(conns), len(cs))
        # REF values are relative paths, as Windows writes them
        conn_paths = {ci(c["__RELPATH"]) for c in conns}
        check("%s: every Win32_ConnectionShare.Dependent is a connection's __RELPATH" % label,
              {ci(a.get("Dependent")) for a in cs} == conn_paths,
              [a.get("Dependent") for a in cs])
        dep_share = {ci(c["__RELPATH"]): c.get("ShareName") for c in conns}
        for a in cs:
            g, err = smbcim(snap, "get", a.get("Antecedent", ""))
            ok = g is not None and len(g) == 1 and g[0].get("__CLASS") == "Win32_Share" \
                and ci(g[0].get("Name")) == ci(dep_share.get(ci(a.get("Dependent"))))
            check("%s: Antecedent %s resolves with get" % (label, a.get("Antecedent")), ok,
                  err or g)

    # ASSOCIATORS OF every share: exactly its connections
    sh = q(snap, "SELECT * FROM Win32_Share", label)
    if sh is not None:
        names = {ci(s["Name"]) for s in sh}
        for s in shares:
            check("%s: Win32_Share %s present" % (label, s["name"]), ci(s["name"]) in names)
        for s in sh:
            r = q(snap, 'ASSOCIATORS OF {Win32_Share.Name="%s"} WHERE AssocClass=Win32_ConnectionShare'
                  % wql_str(s["Name"]), label)
            if r is None:
                continue
            want = sorted(ci(c["__PATH"]) for c in conns if ci(c.get("ShareName")) == ci(s["Name"]))
            check("%s: ASSOCIATORS OF share %s = its %d connection(s)" % (label, s["Name"], len(want)),
                  sorted(ci(o["__PATH"]) for o in r) == want
                  and all(o.get("__CLASS") == "Win32_ServerConnection" for o in r),
                  [o.get("__RELPATH") for o in r])

    open_file_checks(label, snap, truth, conns)
    smb_session_checks(label, snap, truth, exp_sess)

    # Win32_ServerSession
    ss = q(snap, "SELECT * FROM Win32_ServerSession", label)
    if ss is not None:
        check("%s: Win32_ServerSession count = (machine, user) pairs (%d)" % (label, len(exp_sess)),
              len(ss) == len(exp_sess), [s.get("__RELPATH") for s in ss])
        sby = {(ci(s.get("ComputerName")), ci(s.get("UserName"))): s for s in ss}
        for key, e in sorted(exp_sess.items()):
            got = sby.get(key)
            check("%s: session (%s, %s) ResourcesOpened = %d" % (label, e["machine"], e["user"], e["opens"]),
                  got is not None and got.get("ResourcesOpened") == e["opens"],
                  got and got.get("ResourcesOpened"))

    # Win32_SessionConnection
    sc = q(snap, "SELECT * FROM Win32_SessionConnection", label)
    if sc is not None and ss is not None:
        sess_paths = {ci(s["__RELPATH"]) for s in ss}
        check("%s: Win32_SessionConnection: one per connection, Antecedents are sessions" % label,
              len(sc) == len(conns) and all(ci(a.get("Antecedent")) in sess_paths for a in sc)
              and {ci(a.get("Dependent")) for a in sc} == {ci(c["__RELPATH"]) for c in conns},
              [(a.get("Antecedent"), a.get("Dependent")) for a in sc])


DIALECTS = {"SMB3_11": "3.1.1", "SMB3_02": "3.0.2", "SMB3_00": "3.0", "SMB2_10": "2.1",
            "SMB2_02": "2.0.2", "NT1": "1.5"}


def smb_session_checks(label, snap, truth, exp_sess):
    """MSFT_SmbSession against Samba's sessions: one per authenticated
    session, its id, machine and dialect as smbstatus prints them; the
    NumOpens of a (machine, user) add up to its ResourcesOpened."""
    res = q(snap, "SELECT * FROM MSFT_SmbSession", label)
    if res is None:
        return
    want = {str(k): s for k, s in truth["sessions"].items()
            if s.get("uid", -1) != -1 and s.get("username") != "(auth in progress)"}
    got = {str(r.get("SessionId")): r for r in res}
    check("%s: MSFT_SmbSession: one per authenticated Samba session (%d)" % (label, len(want)),
          sorted(got) == sorted(want), (sorted(got), sorted(want)))
    for sid, s in sorted(want.items()):
        r = got.get(sid)
        if r is None:
            continue
        dialect = s.get("session_dialect")
        check("%s: SMB session %s: ClientComputerName %s, Dialect %s (smbstatus: %s)"
              % (label, sid, r.get("ClientComputerName"), r.get("Dialect"), dialect),
              r.get("ClientComputerName") == machine(s["remote_machine"])
              and ci(bare_user(r.get("ClientUserName") or "")) == ci(bare_user(s["username"]))
              and dialect is not None and r.get("Dialect") == DIALECTS.get(dialect), (r, s))
    sums = {}
    for r in res:
        if r.get("NumOpens") is None:
            sums = None
            break
        k = (ci(r.get("ClientComputerName")), ci(bare_user(r.get("ClientUserName") or "")))
        sums[k] = sums.get(k, 0) + r["NumOpens"]
    check("%s: MSFT_SmbSession NumOpens add up to each Win32_ServerSession's ResourcesOpened"
          % label, sums is not None and all(sums.get(k, 0) == e["opens"]
                                             for k, e in exp_sess.items()),
          (sums, {k: e["opens"] for k, e in exp_sess.items()}))
    if res:
        g, gerr = smbcim(snap, "get", res[0]["__PATH"])
        check("%s: an SMB session resolves with get" % label,
              g is not None and len(g) == 1 and g[0].get("SessionId") == res[0]["SessionId"],
              gerr or g)


def has_file_ids(snap):
    """Whether the source gives the opens' ids: the live route through
    smbd's databases does; a snapshot only if its opens have share_file_id."""
    if snap.startswith("live:"):
        return True
    with open(hpath(snap)) as f:
        doc = json.load(f)
    return all("share_file_id" in o for fo in doc["smbstatus"].get("open_files", {}).values()
               for o in fo["opens"].values())


def open_file_checks(label, snap, truth, conns):
    """MSFT_SmbOpenFile against Samba's opens: one per open, FileId =
    share_file_id, the path and the granted access; user and session by
    the open's smbd and uid; each connection's open files through
    SMBCIM_ConnectionOpenFile are as many as its NumberOfFiles."""
    res, err = smbcim(snap, "query", "SELECT * FROM MSFT_SmbOpenFile")
    if not has_file_ids(snap):
        check("%s: MSFT_SmbOpenFile without file ids (text smbstatus): WBEM_E_NOT_AVAILABLE"
              % label, res is None and "WBEM_E_NOT_AVAILABLE" in (err or ""), err or res)
        return
    if res is None:
        check("%s: SELECT * FROM MSFT_SmbOpenFile" % label, False, err)
        return
    check("%s: MSFT_SmbOpenFile: one per open Samba lists (%d)" % (label, len(truth["opens"])),
          len(res) == len(truth["opens"]), [r.get("Path") for r in res])
    if all("file_id" in o for o in truth["opens"]):
        want = sorted((o["file_id"], o["path"].rstrip("/") + "/" + o["name"], o["access"])
                      for o in truth["opens"])
        got = sorted((r.get("FileId"), r.get("Path"), r.get("Permissions")) for r in res)
        check("%s: MSFT_SmbOpenFile FileId, Path, Permissions = share_file_id, "
              "service_path/filename, access_mask" % label, got == want, (got, want))
    by_pid_uid = {}
    for sid, sess in truth["sessions"].items():
        by_pid_uid.setdefault((sid_key(sess["server_id"]), sess["uid"]), []).append((sid, sess))
    for o in truth["opens"]:
        if "file_id" not in o:
            continue
        r = next((x for x in res if x.get("FileId") == o["file_id"]), None)
        owners = by_pid_uid.get((o["server"], o["uid"]), [])
        if r is None or len(owners) != 1:
            continue
        sid, sess = owners[0]
        check("%s: open %d: ClientUserName, ClientComputerName and SessionId of its session %s"
              % (label, o["file_id"], sid),
              ci(bare_user(r.get("ClientUserName") or "")) == ci(bare_user(sess["username"]))
              and r.get("ClientComputerName") == machine(sess["remote_machine"])
              and str(r.get("SessionId")) == str(sid), r)
        g, gerr = smbcim(snap, "get", r["__PATH"])
        check("%s: open %d resolves with get" % (label, o["file_id"]),
              g is not None and len(g) == 1 and g[0].get("Path") == r.get("Path"), gerr or g)
    for c in conns:
        if c.get("NumberOfFiles") is None:
            continue
        a = q(snap, "ASSOCIATORS OF {%s} WHERE ResultClass = MSFT_SmbOpenFile"
              % c["__RELPATH"], label)
        check("%s: %s: its open files through SMBCIM_ConnectionOpenFile = NumberOfFiles (%d)"
              % (label, c["__RELPATH"], c["NumberOfFiles"]),
              a is not None and len(a) == c["NumberOfFiles"], a and [x.get("Path") for x in a])


# ---------------------------------------------------------------- scenario --

PLAN = [
    {"name": "alice-1", "user": "smbcim_alice",
     "trees": [{"share": "Projects", "files": ["a1.txt", "a2.txt"]},
               {"share": "Finance Data"}]},
    {"name": "alice-2", "user": "smbcim_alice",
     "trees": [{"share": "Projects"}]},
    {"name": "bob", "user": "smbcim_bob",
     "trees": [{"share": "Finance Data", "files": ["b1.txt"]},
               {"share": "IPC$"},
               {"share": "smbcim_bob"}]},
]
# Phase 2: FILE_ALL_ACCESS (includes WRITE_OWNER) on a file bob creates.
PLAN2 = [
    {"name": "bob-2", "user": "smbcim_bob",
     "trees": [{"share": "Finance Data",
                "files": [{"name": "owner.txt", "access": 0x1F01FF}]}]},
]


def snapshot(server, tag):
    """demo/make_snapshot.py where Samba runs (in a chroot: a copy, run by
    the chroot's python3).  Returns the snapshot's path as smbd sees it."""
    if CHROOT:
        mk = server.dir + "/make_snapshot.py"
        shutil.copy(MKSNAP, hpath(mk))
        p = run_in(["python3", mk, server.conf, SERVER], timeout=120)
    else:
        p = subprocess.run([PY, MKSNAP, server.conf, SERVER], capture_output=True, text=True,
                           timeout=120)
    if p.returncode != 0:
        raise SetupError("make_snapshot.py: %s" % p.stderr.strip())
    path = os.path.join(server.dir, "snapshot-%s.json" % tag)
    with open(hpath(path), "w") as f:
        f.write(p.stdout)
    if os.environ.get("SMBCIM_E2E_KEEP") == "1":
        shutil.copy(hpath(path), "/tmp/smbcim-e2e-%s.json" % tag)
    return path, json.loads(p.stdout), p.stderr


def scenario_checks(truth, shares):
    """The set-up itself, as Samba sees it (so a broken set-up is not
    mistaken for a correct smbcim)."""
    sessions, tcons = truth["sessions"], truth["tcons"]
    alice = [s for s in sessions.values() if s["username"] == "smbcim_alice"]
    bob = [s for s in sessions.values() if s["username"] == "smbcim_bob"]
    check("setup: Samba shows 2 sessions of alice, 1 of bob", len(alice) == 2 and len(bob) >= 1,
          [(s["username"], s["server_id"]["pid"]) for s in sessions.values()])
    a1 = [s for s in alice
          if {t["service"] for t in tcons.values() if t["session_id"] == s["session_id"]}
          == {"Projects", "Finance Data"}]
    check("setup: one alice session has 2 tcons to different shares", len(a1) == 1)
    check("setup: alice has 2 tcons to Projects (2 sessions)",
          sum(1 for t in tcons.values() if t["service"] == "Projects"
              and sessions.get(t["session_id"], {}).get("username") == "smbcim_alice") == 2)
    check("setup: an IPC$ tcon exists", any(t["service"] == "IPC$" for t in tcons.values()))
    proj = next(s["path"] for s in shares if s["name"] == "Projects")
    fin = next(s["path"] for s in shares if s["name"] == "Finance Data")
    a_uid = alice[0]["uid"] if alice else None
    b_uid = bob[0]["uid"] if bob else None
    check("setup: 2 opens on Projects by alice",
          sum(1 for o in truth["opens"] if o["path"] == proj and o["uid"] == a_uid) == 2,
          truth["opens"])
    check("setup: 1 open on Finance Data by bob (phase 1)",
          sum(1 for o in truth["opens"] if o["path"] == fin and o["uid"] == b_uid) >= 1,
          truth["opens"])


def strip_times(rows):
    """Query rows without the properties that move with the clock."""
    return sorted(json.dumps({k: v for k, v in r.items() if k != "ActiveTime"}, sort_keys=True)
                  for r in rows or [])


def rows_diff(a, b):
    """What differs between two answers (for a failure's detail): the
    properties whose values differ, per __RELPATH."""
    ra = {r.get("__RELPATH"): r for r in a or []}
    rb = {r.get("__RELPATH"): r for r in b or []}
    out = []
    for k in sorted(set(ra) | set(rb), key=str):
        x, y = ra.get(k), rb.get(k)
        if x is None or y is None:
            out.append("%s only in the %s answer" % (k, "first" if y is None else "second"))
            continue
        d = {p: (x.get(p), y.get(p)) for p in sorted(set(x) | set(y))
             if p != "ActiveTime" and x.get(p) != y.get(p)}
        if d:
            out.append("%s: %s" % (k, ", ".join("%s %r != %r" % (p, v[0], v[1])
                                                for p, v in d.items())))
    return "; ".join(out)


QUERIES = ["SELECT * FROM Win32_Share", "SELECT * FROM Win32_ServerConnection",
           "SELECT * FROM Win32_ServerSession", "SELECT * FROM Win32_ConnectionShare",
           "SELECT * FROM Win32_SessionConnection"]


def live_checks(label, server, truth, shares):
    """The live source (smbd's databases read in process) against Samba's
    own report, its route, the smbstatus fallback and the snapshot round
    trip."""
    live = "live:" + server.conf
    env = dict(os.environ, SMBCIM_TIMING="1")
    p = run_smbcim(["--smb-conf", server.conf, "query", "SELECT Name FROM Win32_Share"],
                   env=env)
    m = re.search(r"live source: (\S+)", p.stderr)
    route = m.group(1) if m else "?"
    w = re.search(r"read the state through smbstatus: (.*)", p.stderr)
    info("%s: smbcim read the live server by route %s%s" % (label, route,
         (" (%s)" % w.group(1)[:300]) if w else ""))
    if EXPECT_ROUTE != "any":
        what = {"tdb": "through smbd's databases"}.get(EXPECT_ROUTE, "through smbstatus")
        check("%s: smbcim reads the live server %s (route %s)" % (label, what, EXPECT_ROUTE),
              p.returncode == 0 and route == EXPECT_ROUTE, p.stderr[-300:])
    # The home share smbd registers for bob's connection: path = his home.
    home = os.path.join(server.dir, "home", "smbcim_bob")
    shares = list(shares) + [{"name": "smbcim_bob", "path": home}]
    run_checks(label, live, truth, shares)
    got = q(live, "SELECT Name, Path FROM Win32_Share WHERE Name = 'smbcim_bob'", label)
    check("%s: bob's home share is listed with his home directory" % label,
          got is not None and len(got) == 1 and got[0].get("Path") == home, got)
    names = {ci(s["Name"]) for s in q(live, "SELECT Name FROM Win32_Share", label) or []}
    want = {ci(s["name"]) for s in shares} | {"ipc$"}
    check("%s: Win32_Share = the configuration's shares + IPC$ + home" % label,
          names == want, (sorted(names), sorted(want)))
    # Snapshot round trip: `smbcim snapshot` read back gives the same answers.
    p = run_smbcim(["--smb-conf", server.conf, "snapshot"])
    snap = os.path.join(server.dir, "live-%s.json" % label)
    with open(hpath(snap), "w") as f:
        f.write(p.stdout)
    check("%s: smbcim snapshot writes a snapshot" % label, p.returncode == 0 and
          p.stdout.startswith("{"), p.stderr[-300:])
    fb_env = dict(os.environ, SMBCIM_SAMBA_SOURCE="smbstatus")
    for wql in QUERIES:
        a, ea = smbcim(live, "query", wql)
        b, eb = smbcim(snap, "query", wql)
        check("%s: snapshot round trip: %s" % (label, wql),
              a is not None and strip_times(a) == strip_times(b), ea or eb)
        c, ec = smbcim(live, "query", wql, env=fb_env)
        if wql.endswith("Win32_ServerSession"):
            continue   # 4.17's smbstatus prints no session time: ActiveTime differs only
        # The text smbstatus prints no tree-connect ids: ConnectionID is
        # NULL on that route (docs/live-source.md, "The smbstatus route").
        if wql.endswith("Win32_ServerConnection") and c is not None:
            check("%s: smbstatus fallback route: ConnectionID is NULL" % label,
                  all(r.get("ConnectionID") is None for r in c), c)
            a = [{k: v for k, v in r.items() if k != "ConnectionID"} for r in a or []]
            c = [{k: v for k, v in r.items() if k != "ConnectionID"} for r in c]
        check("%s: smbstatus fallback route gives the same answer: %s" % (label, wql),
              c is not None and strip_times(a) == strip_times(c), ec or rows_diff(a, c))
    wql = "SELECT * FROM MSFT_SmbOpenFile"
    a, ea = smbcim(live, "query", wql)
    b, eb = smbcim(snap, "query", wql)
    check("%s: snapshot round trip: %s (the file ids kept)" % (label, wql),
          a is not None and a == b, ea or eb or rows_diff(a, b))
    c, ec = smbcim(live, "query", wql, env=fb_env)
    check("%s: smbstatus fallback route: %s is WBEM_E_NOT_AVAILABLE (no ids in the text)"
          % (label, wql), c is None and "WBEM_E_NOT_AVAILABLE" in (ec or ""), ec or c)
    wql = "SELECT SessionId, ClientComputerName, ClientUserName, NumOpens, Dialect " \
          "FROM MSFT_SmbSession"
    a, ea = smbcim(live, "query", wql)
    b, eb = smbcim(snap, "query", wql)
    check("%s: snapshot round trip: %s" % (label, wql), a is not None and a == b,
          ea or eb or rows_diff(a, b))
    c, ec = smbcim(live, "query", wql, env=fb_env)
    check("%s: smbstatus fallback route: MSFT_SmbSession is WBEM_E_NOT_AVAILABLE (no session "
          "ids in the text)" % label, c is None and "WBEM_E_NOT_AVAILABLE" in (ec or ""),
          ec or c)


def error_checks(server):
    """Faults of the live source: each a clear error, never an empty success."""
    def run(args, env=None):
        return run_smbcim(args, env=env)
    p = run(["--smb-conf", "/nonexistent/smb.conf", "query", "SELECT * FROM Win32_Share"])
    check("errors: unreadable configuration -> WBEM_E_NOT_AVAILABLE naming the file",
          p.returncode == 6 and "WBEM_E_NOT_AVAILABLE" in p.stderr
          and "/nonexistent/smb.conf" in p.stderr, p.stderr)
    hd, d = mkdtemp_in("smbcim-e2e-conf.")    # d: as smbcim sees it, hd: from here
    try:
        bad = os.path.join(d, "bad.conf")
        with open(hpath(bad), "w") as f:
            f.write("[global]\n  netbios name = X\n[broken\n")
        p = run(["--smb-conf", bad, "query", "SELECT * FROM Win32_Share"])
        check("errors: syntax error -> WBEM_E_INVALID_PARAMETER with file:line",
              p.returncode == 3 and "INVALID_PARAMETER" in p.stderr and "bad.conf:3" in p.stderr,
              p.stderr)
        stopped = os.path.join(d, "stopped.conf")
        with open(hpath(server.conf)) as f:
            text = f.read()
        os.mkdir(os.path.join(hd, "pid"))
        text = re.sub(r"pid directory = .*", "pid directory = %s/pid" % d, text)
        with open(hpath(stopped), "w") as f:
            f.write(text)
        # smbd stopped: no session state, as smbstatus prints empty tables;
        # one warning line; the shares still come from the configuration.
        p = run(["--smb-conf", stopped, "--format", "json", "query",
                 "SELECT * FROM Win32_ServerConnection"])
        warn = [l for l in p.stderr.splitlines() if l.strip()]
        check("smbd not running: the session classes answer nothing, one warning, exit 0",
              p.returncode == 0 and json.loads(p.stdout or "null") == [] and len(warn) == 1
              and "smbd is not running" in warn[0], p.stderr + p.stdout)
        p = run(["--smb-conf", stopped, "--format", "json", "query",
                 "SELECT Name FROM Win32_Share"])
        names = sorted(i["Name"] for i in json.loads(p.stdout or "[]")) if p.returncode == 0 else []
        check("smbd not running: Win32_Share from the configuration",
              p.returncode == 0 and "Projects" in names and "IPC$" in names, p.stderr + p.stdout)
        # Not root: smbd's databases are root's; a copy of the binary that
        # the user can run, and the same live query.
        exe = os.path.join(d, "smbcim")
        shutil.copy(SMBCIM, hpath(exe))
        os.chmod(hd, 0o755)
        os.chmod(hpath(exe), 0o755)
        p = run_in(["runuser", "-u", "nobody", "--", exe, "--smb-conf", server.conf,
                    "query", "SELECT * FROM Win32_ServerSession"])
        check("errors: not root -> WBEM_E_ACCESS_DENIED naming the database and the cause",
              p.returncode == 5 and "WBEM_E_ACCESS_DENIED" in p.stderr
              and "needs root" in p.stderr and not p.stdout, p.stderr + p.stdout)
        p = run_in(["runuser", "-u", "nobody", "--", exe, "--smb-conf", server.conf,
                    "--format", "json", "query", "SELECT Name FROM Win32_Share"])
        names = sorted(i["Name"] for i in json.loads(p.stdout or "[]")) if p.returncode == 0 else []
        check("not root: Win32_Share from the configuration, no warning",
              p.returncode == 0 and "Projects" in names and not p.stderr.strip(),
              p.stderr + p.stdout)
    finally:
        shutil.rmtree(hd, ignore_errors=True)


def fake_lock_dir(server, records, prefix):
    """A Samba configuration whose lock directory holds the given records
    ({database: {key: value}}, written with python3-tdb) and whose pid file
    names the running smbd.  Returns (host dir, conf as smbcim sees it), or
    None when python3-tdb is missing (a failed check says so)."""
    try:
        import tdb   # python3-tdb (a dependency of samba), for Debian's python3
    except ImportError:
        check("python3-tdb importable (run with /usr/bin/python3)", False)
        return None
    hd, d = mkdtemp_in(prefix)
    for sub in ("lock", "pid", "state", "cache", "private"):
        os.mkdir(os.path.join(hd, sub))
    with open(os.path.join(hd, "pid", "smbd.pid"), "w") as f:
        f.write("%s\n" % server.pid)    # a running smbd
    for name, recs in records.items():
        db = tdb.Tdb(os.path.join(hd, "lock", name), 0, tdb.DEFAULT,
                     os.O_CREAT | os.O_RDWR, 0o600)
        for k, v in recs.items():
            db[k] = v
        db.close()
    conf = os.path.join(d, "smb.conf")
    with open(hpath(conf), "w") as f:
        f.write("[global]\n  netbios name = layout\n  lock directory = %s/lock\n"
                "  pid directory = %s/pid\n  state directory = %s/state\n"
                "  cache directory = %s/cache\n  private dir = %s/private\n"
                "[data]\n  path = %s\n" % (d, d, d, d, d, d))
    return hd, conf


# A version-2 smbXsrv record: a future Samba (smbcim knows versions 0 and 1).
FUTURE_SESSION = {b"\x00\x00\x00\x01": b"\x00\x00\x00\x00\x02\x00\x00\x00" + b"\x07" * 40}


def unknown_layout_checks(server):
    """A Samba whose records smbcim does not know: a lock directory holding a
    session record of another layout.  smbcim must notice, say so, and take
    the smbstatus route instead of misreading it."""
    made = fake_lock_dir(server, {"smbXsrv_session_global.tdb": FUTURE_SESSION},
                         "smbcim-e2e-layout.")
    if not made:
        return
    hd, conf = made
    try:
        p = run_smbcim(["--smb-conf", conf, "--format", "json", "query",
                        "SELECT * FROM Win32_ServerSession"])
        check("unknown record layout: noticed, reported, smbstatus route taken",
              "read the state through smbstatus" in p.stderr
              and "unknown smbXsrv record version" in p.stderr
              and "smbXsrv_session_global.tdb: session record" in p.stderr, p.stderr)
        check("unknown record layout: the answer comes from smbstatus (no sessions "
              "readable there either), exit 0", p.returncode == 0
              and json.loads(p.stdout or "null") == [], p.stdout + p.stderr)
    finally:
        shutil.rmtree(hd, ignore_errors=True)


def lazy_checks(server):
    """smbd's databases are read only when a request needs them: a GetObject
    of a configured share reads none, Win32_Share reads the sessions and tree
    connects but not locking.tdb.  Seen through records that do not decode:
    a database that is read says so (and the smbstatus route is taken), one
    that is not stays silent.  Each check gets a new lock directory: the
    smbstatus a fallback runs may tidy the bad record away."""
    env = dict(os.environ, SMBCIM_TIMING="1")
    bad_locking = {"locking.tdb": {b"\x01" * 24: b"\xff" * 64}}
    bad_session = {"smbXsrv_session_global.tdb": FUTURE_SESSION}

    def run(records, args):
        made = fake_lock_dir(server, records, "smbcim-e2e-lazy.")
        if not made:
            return None, "?"
        hd, conf = made
        try:
            p = run_smbcim(["--smb-conf", conf, "--format", "json"] + args, env=env)
        finally:
            shutil.rmtree(hd, ignore_errors=True)
        m = re.search(r"live source: (\S+)", p.stderr)
        return p, m.group(1) if m else "?"

    p, route = run(bad_session, ["get", 'Win32_Share.Name="data"'])
    got = json.loads(p.stdout or "null") if p and p.returncode == 0 else None
    check("lazy: GetObject of a configured share reads no database (route config, "
          "no warning)", got and got[0].get("Name") == "data" and route == "config"
          and "warning" not in p.stderr, p and p.stderr + p.stdout)
    p, route = run(bad_session, ["get", 'Win32_Share.Name="nosuch"'])
    check("lazy: GetObject of another share name looks at the sessions ([homes] shares), "
          "then WBEM_E_NOT_FOUND", p and p.returncode == 4 and "NOT_FOUND" in p.stderr
          and "smbXsrv_session_global.tdb: session record" in p.stderr, p and p.stderr)
    p, route = run(bad_session, ["query", "SELECT Name FROM Win32_Share"])
    check("lazy: Win32_Share reads the sessions (the record that does not decode is "
          "reported, smbstatus route)", p and p.returncode == 0 and route == "smbstatus"
          and "smbXsrv_session_global.tdb: session record" in p.stderr, p and p.stderr)
    # The server's own sessions and tree connects (its clients are still
    # connected, their smbds alive), beside a locking.tdb that does not
    # decode: the associations have links to show.
    import tdb
    live = {}
    for name in ("smbXsrv_session_global.tdb", "smbXsrv_tcon_global.tdb"):
        db = tdb.Tdb(hpath(os.path.join(server.dir, "lock", name)), 0,
                     4096, os.O_RDWR)    # TDB_MUTEX_LOCKING, as smbd opens it
        live[name] = {k: db[k] for k in db.keys()}
        db.close()
    conns_bad_locking = dict(live, **bad_locking)
    p, route = run(bad_locking, ["query", "SELECT Name FROM Win32_Share"])
    check("lazy: Win32_Share does not read locking.tdb (route tdb, no warning)",
          p and p.returncode == 0 and route == "tdb" and "warning" not in p.stderr,
          p and p.stderr)
    for cls in ("Win32_ConnectionShare", "Win32_SessionConnection"):
        p, route = run(conns_bad_locking, ["query", "SELECT * FROM " + cls])
        check("lazy: %s does not read locking.tdb: its REFs are the endpoints' keys "
              "(route tdb, no warning)" % cls,
              p and p.returncode == 0 and route == "tdb" and "warning" not in p.stderr
              and json.loads(p.stdout or "null"), p and p.stderr + p.stdout)
    p, route = run(conns_bad_locking, ["query", "ASSOCIATORS OF {Win32_Share.Name=\"Projects\"} "
                                 "WHERE ResultClass = Win32_ServerConnection"])
    check("lazy: ASSOCIATORS OF a share gives whole connections, so it reads locking.tdb "
          "(its record is reported, smbstatus route)", p and p.returncode == 0
          and route == "smbstatus" and "locking.tdb: locking record" in p.stderr,
          p and p.stderr + p.stdout)
    p, route = run(bad_locking, ["query", "SELECT * FROM Win32_ServerConnection"])
    check("lazy: Win32_ServerConnection reads locking.tdb (its record is reported, "
          "smbstatus route)", p and p.returncode == 0 and route == "smbstatus"
          and "locking.tdb: locking record" in p.stderr, p and p.stderr + p.stdout)


def config_checks(server):
    """Shares from an included file and from the registry configuration, as
    smbd sees them: compared with testparm's list."""
    extra = os.path.join(server.dir, "extra.conf")
    with open(hpath(extra), "w") as f:
        f.write("[Included Share]\n  path = %s/shares/projects\n  comment = from an include\n"
                % server.dir)
    with open(hpath(server.conf)) as f:
        orig = f.read()
    try:
        # registry shares before the include: after an include, smbd (and
        # smbcim) stay in the included file's last section.
        text = orig.replace("[Projects]", "    registry shares = yes\n    include = %s\n\n"
                            "[Projects]" % extra, 1)
        with open(hpath(server.conf), "w") as f:
            f.write(text)
        p = run_in(["net", "-s", server.conf, "conf", "addshare", "RegShare",
                    os.path.join(server.dir, "shares", "backup"), "writeable=n",
                    "guest_ok=n", "from the registry"])
        check("config: net conf addshare RegShare", p.returncode == 0, p.stderr + p.stdout)
        rows = q("live:" + server.conf, "SELECT Name, Path, Caption FROM Win32_Share", "config")
        by = {r["Name"]: r for r in rows or []}
        check("config: a share from an include file is listed with its path and comment",
              by.get("Included Share", {}).get("Caption") == "from an include", sorted(by))
        check("config: a registry share is listed with its path and comment",
              by.get("RegShare", {}).get("Caption") == "from the registry"
              and by["RegShare"].get("Path", "").endswith("/shares/backup"), sorted(by))
        t = run_in(["testparm", "-s", server.conf])
        sections = {m.lower() for m in re.findall(r"^\[(.*)\]$", t.stdout, re.M)}
        want = (sections - {"global", "homes", "printers"}) | {"ipc$"}
        got = {n.lower() for n in by} - {"smbcim_bob"}   # the connected home share
        check("config: Win32_Share = testparm's shares + IPC$", got == want,
              (sorted(got), sorted(want)))
    finally:
        with open(hpath(server.conf), "w") as f:
            f.write(orig)
        run_in(["net", "-s", server.conf, "conf", "delshare", "RegShare"])


def churn_checks(server):
    """The databases change while smbcim reads them: clients connect and
    disconnect during 40 reads; each read must succeed and be consistent
    (every connection's share and session resolve)."""
    plan = [{"name": "churn%d" % i, "user": "smbcim_bob", "source": "127.0.9.%d" % (i + 1),
             "trees": [{"share": "Projects", "files": ["churn%d.txt" % i]}]}
            for i in range(15)]
    bad = []
    holder = None
    live = "live:" + server.conf
    try:
        import threading
        result = {}

        def connect():
            try:
                for cycle in range(3):
                    h = Holder(server, plan, "churn%d" % cycle, timeout=120)
                    result["h"] = h
                    time.sleep(0.2)
                    h.stop()
            except Exception as e:  # noqa: BLE001
                result["err"] = e
        th = threading.Thread(target=connect)
        th.start()
        n = 0
        while th.is_alive() and n < 1000:
            n += 1
            res, err = smbcim(live, "query", "REFERENCES OF {Win32_Share.Name=\"Projects\"}")
            if res is None:
                bad.append(err)
        th.join()
        holder = result.get("h")
        check("churn: %d live reads while 15 clients came and went 3 times, all answered" % n,
              n > 0 and not bad and "err" not in result, (bad[:3], result.get("err")))
    finally:
        if holder:
            holder.stop()


def removed_share_checks(server):
    """A share removed from the configuration while a client still uses it:
    the connection stays, with a synthesized Win32_Share."""
    with open(hpath(server.conf)) as f:
        orig = f.read()
    cut = re.sub(r"\[Finance Data\][^\[]*", "", orig)
    try:
        with open(hpath(server.conf), "w") as f:
            f.write(cut)
        live = "live:" + server.conf
        conns = q(live, "SELECT * FROM Win32_ServerConnection WHERE ShareName = 'Finance Data'",
                  "removed")
        check("removed share: its connections are still listed", conns is not None
              and len(conns) >= 2, conns)
        rows = q(live, "SELECT Name, Path, Caption FROM Win32_Share WHERE Name = 'Finance Data'",
                 "removed") or []
        check("removed share: no longer configured (no path or comment), only synthesized",
              len(rows) == 1 and rows[0].get("Path") is None and rows[0].get("Caption") is None,
              rows)
        got, err = smbcim(live, "get", 'Win32_Share.Name="Finance Data"')
        check("removed share: Win32_Share synthesized (Name only, Path NULL)",
              got is not None and got[0].get("Name") == "Finance Data"
              and got[0].get("Path") is None, err or got)
        assoc = q(live, 'ASSOCIATORS OF {Win32_Share.Name="Finance Data"}', "removed")
        check("removed share: ASSOCIATORS OF it = its connections",
              assoc is not None and len(assoc) == len(conns or []), assoc)
    finally:
        with open(hpath(server.conf), "w") as f:
            f.write(orig)


def main():
    if os.geteuid() != 0:
        print("run_e2e: must run as root (smbd, smbstatus, useradd)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    started = time.monotonic()
    have_smbcim = os.access(SMBCIM, os.X_OK)
    users = ("smbcim_alice", "smbcim_bob")
    existed = set()
    server = None
    holders = []
    ver = "?"
    try:
        chroot_init()
        existed = {u for u in users if user_exists(u)}
        server = Server()
        ver = (run_in(["smbd", "--version"]).stdout.split() or ["?"])[-1]
        check("setup: private smbd started (pid %s, 127.0.0.1:%d)%s"
              % (server.pid, server.port,
                 " in chroot %s, Samba %s" % (CHROOT, ver) if CHROOT else ""), True)
        info("Samba %s (%s)" % (ver, "chroot %s: %s" % (CHROOT, CROOT) if CHROOT else "host"))
        if have_smbcim:
            install_smbcim(server)
        holders.append(Holder(server, PLAN, "phase1"))
        check("setup: clients connected (impacket, %d connections)" % len(PLAN), True)

        # ---- phase 1: smbstatus --json works
        snap1, doc1, err1 = snapshot(server, "phase1")
        p = smbstatus(server.conf, "--json")
        check("phase1: smbstatus --json succeeds", p.returncode == 0, p.stderr[-300:])
        truth1 = truth_from_json(json.loads(p.stdout)) if p.returncode == 0 else None
        check("phase1: snapshot used smbstatus --json -L (no fallback)",
              "fallback" not in err1, err1)
        if truth1:
            scenario_checks(truth1, doc1["shares"])
            check("phase1: snapshot has Samba's sessions and tcons",
                  set(doc1["smbstatus"]["sessions"]) == set(truth1["sessions"])
                  and set(doc1["smbstatus"]["tcons"]) == set(truth1["tcons"]))
            if check("smbcim is built (%s)" % SMBCIM, have_smbcim,
                     "run make; the smbcim checks are skipped"):
                run_checks("phase1", snap1, truth1, doc1["shares"])
                live_checks("phase1-live", server, truth1, doc1["shares"])
                error_checks(server)

        # ---- phase 2: a WRITE_OWNER open
        holders.append(Holder(server, PLAN2, "phase2"))
        snap2, doc2, err2 = snapshot(server, "phase2")
        pj = smbstatus(server.conf, "--json")
        m = re.match(r"(\d+)\.(\d+)", ver)
        old = m and (int(m.group(1)), int(m.group(2))) < (4, 24)
        if old:
            check("phase2: Samba %s aborts smbstatus --json on a WRITE_OWNER open" % ver,
                  pj.returncode != 0 and not pj.stdout.strip(), pj.returncode)
            check("phase2: snapshot fell back to text smbstatus -L", "fallback" in err2, err2)
        else:
            check("phase2: Samba %s's smbstatus --json works with a WRITE_OWNER open" % ver,
                  pj.returncode == 0 and pj.stdout.strip(), pj.stderr[-300:])
            check("phase2: snapshot used smbstatus --json -L (no fallback)",
                  "fallback" not in err2, err2)
        sp = smbstatus(server.conf, "--json", "-p")
        st = smbstatus(server.conf, "--json", "-S")
        check("phase2: smbstatus --json -p and -S still work",
              sp.returncode == 0 and st.returncode == 0, sp.stderr[-200:] + st.stderr[-200:])
        sessions = json.loads(sp.stdout).get("sessions", {})
        truth2 = {"sessions": sessions, "tcons": json.loads(st.stdout).get("tcons", {}),
                  "opens": truth_text_opens(server.conf,
                                            [s["path"] for s in doc2["shares"] if s.get("path")],
                                            sessions)}
        check("phase2: Samba lists the WRITE_OWNER open",
              any(o.get("access", 0) & 0x80000 for o in truth2["opens"]), truth2["opens"])
        if not old and pj.returncode == 0:
            # The text parsed above (with 4.25's Persistent column) against
            # the same opens in JSON.
            def opset(opens):
                return sorted((o["pid"], o["uid"], o["path"]) for o in opens)
            jopens = truth_from_json(json.loads(pj.stdout))["opens"]
            check("phase2: text smbstatus -L and --json -L list the same opens",
                  opset(jopens) == opset(truth2["opens"]),
                  (opset(jopens), opset(truth2["opens"])))
        n_opens = sum(len(f["opens"]) for f in doc2["smbstatus"]["open_files"].values())
        check("phase2: snapshot has every open (%d)" % len(truth2["opens"]),
              n_opens == len(truth2["opens"]), n_opens)
        if have_smbcim:
            run_checks("phase2", snap2, truth2, doc2["shares"])
            live_checks("phase2-live", server, truth2, doc2["shares"])
            removed_share_checks(server)
            config_checks(server)
            unknown_layout_checks(server)
            lazy_checks(server)
            churn_checks(server)
    except SetupError as e:
        check("setup", False, e)
    except Exception as e:  # noqa: BLE001 - report, then clean up
        check("unexpected error", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for h in holders:
            h.stop()
        if server:
            server.stop()
            check("cleanup: smbd and its children stopped",
                  subprocess.run(["pgrep", "-g", str(server.pid)],
                                 capture_output=True).returncode != 0)
            check("cleanup: temp dir removed", not os.path.exists(server.hostdir))
            left = [u for u in users if u not in existed and user_exists(u)]
            check("cleanup: users created by the run removed", not left, left)
    info("suite %s (Samba %s): %.1f s" % (CHROOT or "host", ver, time.monotonic() - started))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
