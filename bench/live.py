#!/usr/bin/env python3
"""Live-source benchmark: smbcim against smbstatus on a real smbd.

    python3 bench/live.py [--sizes 1,10,100,500,1000] [--runs 15]
                          [--chroot trixie|sid] [--sections] [--check]   (as root)

Starts a throwaway smbd (its own temporary directory, smb.conf and port on
127.0.0.1; a Unix + tdbsam user smbcim_bench made for the run and deleted
after it), then grows the number of real clients held by python3-impacket
(tests/e2e/smb_holder.py) through the sizes.  Each client is its own TCP
connection from its own loopback address (127.0.x.y, so smbd sees N client
machines), with one session, two tree connects (Projects, backup$) and one
file open on each: N sessions, 2N tree connects, 2N opens.

--chroot SUITE (or SMBCIM_BENCH_CHROOT=SUITE) runs smbd, smbstatus and
smbcim inside the Debian chroot of scripts/chroot.sh (trixie: Samba 4.22,
sid: Samba 4.25): the temporary directory is made inside the chroot, the
host-built smbcim is copied into it (it needs only libc and libtdb1), the
user is made inside the chroot.  The clients run on the host
(/usr/bin/python3 with python3-impacket) and reach smbd over loopback.
Every timed command is started the same way in both modes (fork, chroot
when asked, exec), so the figures compare.

For each N, in the same run, each command is timed as a whole process
(wall clock, fork to exit, output to a pipe):
  smbcim --smb-conf CONF query "SELECT * FROM Win32_ConnectionShare"
        (its normal route: tdb, or smbstatus when the records do not decode)
  the same with SMBCIM_SAMBA_SOURCE=smbstatus  (the forced fallback)
  smbstatus -s CONF            (plain text, all sections)
  smbstatus -s CONF --json     (all sections)
(the first three --runs times each, in rounds, so that a passing load
touches them alike) and the output is checked: smbcim must report 2N
connections both ways.
--sections also times each smbstatus section alone (text -p, -S, -L -n,
-n; --json -p, -S, -L).  Prints a table of median (minimum) milliseconds
and the ratios; nothing is asserted.

--hold FILE keeps the clients of the last size connected after timing it,
writes the server's smb.conf path (and the smbcim it uses) to FILE as JSON
and waits until FILE is deleted: for profiling by hand.

--check (no timing) holds a fixed set of clients instead: two users, a
second session of a user from the same machine, a share name with a space,
a home share, IPC$, files held open (one with WRITE_OWNER, 0x1F01FF, which
makes `smbstatus --json` abort before Samba 4.24), and one connection
(one smbd) carrying sessions of both users, as a terminal server's do.
It prints smbcim's answers for Win32_ServerConnection, Win32_ServerSession and
Win32_ConnectionShare on both routes, normalised (ActiveTime and
ConnectionID left out), compares them with the answers the plan implies
and with each other, and exits 1 on a difference.  --dump DIR keeps the
raw smbstatus outputs and smbcim answers (DIR/normalised.json: the
normalised answers); --against FILE compares the smbstatus route's answers
with the default route's of such a file, from another Samba:

    python3 bench/live.py --check --dump /tmp/c417          # 4.17: tdb route
    python3 bench/live.py --check --chroot sid --against /tmp/c417/normalised.json
"""
import argparse
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMBCIM = os.environ.get("SMBCIM", os.path.join(ROOT, "build", "smbcim"))
HOLDER = os.path.join(ROOT, "tests", "e2e", "smb_holder.py")
CHROOT_SH = os.path.join(ROOT, "scripts", "chroot.sh")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import free_port, read_line  # noqa: E402
PY = os.environ.get("SMBCIM_DEMO_PYTHON", "/usr/bin/python3")   # has python3-impacket
USER = "smbcim_bench"
USER2 = "smbcim_bench2"
GECOS = "smbcim bench temporary user"
PASSWORD = "Bench-Pass-1"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class Env:
    """Where smbd, smbstatus and smbcim run: the host, or a chroot."""

    def __init__(self, suite):
        self.suite = suite
        self.root = ""
        if suite:
            self.root = subprocess.run(["bash", CHROOT_SH, "path", suite], check=True,
                                       capture_output=True, text=True).stdout.strip()
            # chroot.sh mounts /proc and /dev on first use (and leaves them).
            subprocess.run(["bash", CHROOT_SH, "run", suite, "true"], check=True)

    def host(self, path):
        """The host's name of a path inside the environment."""
        return self.root + path if self.root else path

    def _argv(self, argv):
        # chroot(8), which execs the command: the same process, as a
        # preexec_fn would give, but a preexec_fn makes Python fork() and
        # run Python code in the child instead of vfork()ing, which costs
        # every timed process more (1.4 ms on the host at 2,000 clients;
        # 1.1 ms for a chroot against 0.8 ms through chroot(8)), smbcim and
        # smbstatus alike.
        return ["chroot", self.root] + list(argv) if self.root else argv

    def popen(self, argv, **kw):
        return subprocess.Popen(self._argv(argv), **kw)

    def run(self, argv, **kw):
        return subprocess.run(self._argv(argv), **kw)






def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


class Server:
    """A throwaway smbd in env; stop() undoes everything it made."""

    def __init__(self, env, users=(USER,)):
        self.env = env
        self.pid = None
        self.created = []
        self.smbcim = None
        self.hdir = tempfile.mkdtemp(prefix="smbcim-bench.", dir=env.host("/tmp"))
        try:
            self._setup(users)
        except BaseException:
            self.stop()
            raise

    def _setup(self, users):
        env = self.env
        os.chmod(self.hdir, 0o755)
        self.dir = self.hdir[len(env.root):]         # its name inside env
        d = self.dir
        self.conf = d + "/smb.conf"
        self.port = free_port()
        self.password = PASSWORD
        for sub in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log", "home",
                    "shares/projects", "shares/finance", "shares/backup"):
            os.makedirs(env.host(d + "/" + sub), exist_ok=True)
        os.chmod(env.host(d + "/private"), 0o700)
        for sub in ("projects", "finance", "backup"):
            os.chmod(env.host(d + "/shares/" + sub), 0o1777)
        with open(env.host(self.conf), "w") as f:
            f.write("""# Throwaway smbd of bench/live.py
[global]
    server role = standalone
    server string = smbcim bench server
    netbios name = SMBCIMBENCH
    workgroup = SMBCIMBENCH
    smb ports = {port}
    interfaces = lo 127.0.0.1
    bind interfaces only = yes
    disable netbios = yes
    private dir = {d}/private
    lock directory = {d}/lock
    state directory = {d}/state
    cache directory = {d}/cache
    pid directory = {d}/pid
    ncalrpc dir = {d}/ncalrpc
    log file = {d}/log/log.%m
    max log size = 1000
    log level = 0
    passdb backend = tdbsam:{d}/private/passdb.tdb
    load printers = no
    printcap name = /dev/null
    printing = bsd
    disable spoolss = yes
    map to guest = never
    usershare max shares = 0

[Projects]
    path = {d}/shares/projects
    comment = Team projects
    read only = no

[Finance Data]
    path = {d}/shares/finance
    comment = Finance
    read only = no

[backup$]
    path = {d}/shares/backup
    comment = Backups (hidden)
    read only = no

[homes]
    path = {d}/home/%U
    comment = Home directories
    read only = no
    browseable = no
""".format(port=self.port, d=d))
        for u in users:
            self._user(u)
        # smbcim inside the environment: the host build, copied in.
        if env.root:
            self.smbcim = d + "/smbcim"
            shutil.copy(SMBCIM, env.host(self.smbcim))
        else:
            self.smbcim = SMBCIM
        if port_open(self.port):
            raise RuntimeError("port %d is taken" % self.port)
        out = open(env.host(d + "/log/smbd.stdout"), "w")
        # smbd calls setsid(): it and its children are process group self.pid.
        p = env.popen(["smbd", "--foreground", "-s", self.conf], stdin=subprocess.DEVNULL,
                      stdout=out, stderr=subprocess.STDOUT)
        out.close()
        self.proc = p
        self.pid = p.pid
        for _ in range(200):
            if p.poll() is not None:
                raise RuntimeError("smbd exited (%s); see %s" % (p.returncode, self.hdir))
            if port_open(self.port):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("smbd did not open port %d" % self.port)
        v = env.run(["smbd", "--version"], capture_output=True, text=True).stdout.strip()
        self.version = v.split()[-1] if v else "?"
        log("smbd %s pid %d on 127.0.0.1:%d (%s)"
            % (self.version, self.pid, self.port, self.env.suite or "host"))

    def _user(self, u):
        env = self.env
        exists = env.run(["getent", "passwd", u], capture_output=True, text=True)
        if exists.returncode != 0:
            env.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "-c", GECOS,
                     "-d", self.dir + "/home/" + u, u], check=True)
            self.created.append(u)
        elif exists.stdout.split(":")[4] == GECOS:
            self.created.append(u)     # left over by a killed run: ours
        else:
            raise RuntimeError("user %s exists and is not ours" % u)
        os.makedirs(self.env.host(self.dir + "/home/" + u), exist_ok=True)
        uid = int(env.run(["id", "-u", u], capture_output=True, text=True).stdout)
        os.chown(self.env.host(self.dir + "/home/" + u), uid, -1)
        env.run(["smbpasswd", "-c", self.conf, "-a", "-s", u], check=True,
                input="%s\n%s\n" % (PASSWORD, PASSWORD), text=True,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        if self.pid:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                time.sleep(0.1)
            try:
                os.killpg(self.pid, signal.SIGKILL)   # children that outlived smbd
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.pid = None
        for u in self.created:
            self.env.run(["userdel", u], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.created = []
        if os.environ.get("SMBCIM_BENCH_KEEP") == "1":
            log("kept " + self.hdir)
        else:
            shutil.rmtree(self.hdir, ignore_errors=True)


class Holder:
    """Clients held open by tests/e2e/smb_holder.py until stop()."""

    def __init__(self, server, connections, tag, timeout=60):
        plan = {"host": "127.0.0.1", "port": server.port, "password": server.password,
                "max_hold": max(3600, timeout * 4), "connections": connections}
        path = os.path.join(server.hdir, "plan-%s.json" % tag)
        with open(path, "w") as f:
            json.dump(plan, f)
        self.proc = subprocess.Popen([PY, HOLDER, path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            rep = json.loads(read_line(self.proc, timeout, "SMB clients (%s)" % tag))
        except BaseException:
            self.stop()
            raise
        if not rep.get("ready"):
            self.stop()
            raise RuntimeError("SMB clients (%s): %s" % (tag, rep.get("error")))
        self.report = rep

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def timed(env, argv, runs, extra_env=None):
    return interleaved(env, [(argv, extra_env)], runs)[0]


def interleaved(env, cmds, runs):
    """Times each (argv, extra_env) of cmds runs times, in rounds (one run
    of each per round), so that a load that comes and goes touches them
    alike.  [(median, minimum, last CompletedProcess)] in cmds' order."""
    times = [[] for _ in cmds]
    phases = [[] for _ in cmds]
    outs = [None] * len(cmds)
    envs = [dict(os.environ, **x) if x else None for _, x in cmds]
    for _ in range(runs):
        for i, (argv, _) in enumerate(cmds):
            t0 = time.perf_counter()
            p = env.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=envs[i])
            times[i].append((time.perf_counter() - t0) * 1000.0)
            ph = phases_of(p.stderr)
            if ph is not None:
                phases[i].append(ph)
            outs[i] = p
    interleaved.phases = [statistics.median(ph) if ph else None for ph in phases]
    return [(statistics.median(t), min(t), o) for t, o in zip(times, outs)]


def phases_of(stderr):
    """load + evaluate + format (ms) from an SMBCIM_TIMING line, or None."""
    for line in stderr.decode(errors="replace").splitlines():
        if "smbcim: timing:" in line:
            parts = line.split("timing:")[1].split(",")
            return sum(float(x.split()[1]) for x in parts) * 1000.0
    return None


def client(i):
    a = 1 + i // 250
    b = 1 + i % 250
    return {"name": "c%d" % i, "user": USER, "source": "127.0.%d.%d" % (a, b),
            "trees": [{"share": "Projects", "files": ["bench_%d_a.txt" % i]},
                      {"share": "backup$", "files": ["bench_%d_b.txt" % i]}]}


def csv_rows(p):
    return p.stdout.decode().count("\n") - 1 if p.returncode == 0 else -1


def route_of(stderr):
    s = stderr.decode(errors="replace")
    for line in s.splitlines():
        if "live source:" in line:
            return line.split("live source:")[-1].strip()
    return "?"


SECTIONS = [("-p", ["-p"]), ("-S", ["-S"]), ("-L -n", ["-L", "-n"]), ("-n", ["-n"]),
            ("--json -p", ["--json", "-p"]), ("--json -S", ["--json", "-S"]),
            ("--json -L", ["--json", "-L"])]


def bench(args, env):
    sizes = [int(x) for x in args.sizes.split(",")]
    server = Server(env)
    holders = []
    rows = []
    sections = []
    try:
        have = 0
        for n in sizes:
            want = [client(i) for i in range(have, n)]
            if want:
                t0 = time.time()
                holders.append(Holder(server, want, "bench%d" % n,
                                      timeout=60 + len(want) // 4))
                log("%d clients connected (%d new in %.0f s)" % (n, len(want), time.time() - t0))
            have = n
            q = "SELECT * FROM Win32_ConnectionShare"
            cmd = [server.smbcim, "--smb-conf", server.conf, "--format", "csv", "query", q]
            # smbcim both ways and plain smbstatus, in rounds
            (sm, smin, sp), (fm, fmin, fp), (pm, pmin, _) = interleaved(env, [
                (cmd, {"SMBCIM_TIMING": "1"}),
                (cmd, {"SMBCIM_SAMBA_SOURCE": "smbstatus", "SMBCIM_TIMING": "1"}),
                (["smbstatus", "-s", server.conf], None)], args.runs)
            sphase = interleaved.phases[0]
            route, froute = route_of(sp.stderr), route_of(fp.stderr)
            jruns = 5 if n <= 100 else (2 if n <= 500 else 1)
            jm, jmin, jp = timed(env, ["smbstatus", "-s", server.conf, "--json"], jruns)
            lines, flines = csv_rows(sp), csv_rows(fp)
            if args.sections:
                sec = {}
                text = [(n_, o) for n_, o in SECTIONS if "--json" not in o]
                res = interleaved(env, [(["smbstatus", "-s", server.conf] + o, None)
                                        for _, o in text], max(5, args.runs // 3))
                for (name, _), (m, mn, p) in zip(text, res):
                    sec[name] = (m, p.returncode)
                for name, opt in SECTIONS:
                    if "--json" in opt:
                        m, mn, p = timed(env, ["smbstatus", "-s", server.conf] + opt, jruns)
                        sec[name] = (m, p.returncode)
                sections.append((n, sec))
                log("N=%d sections: %s" % (n, ", ".join(
                    "%s %.0f ms%s" % (k, v[0], "" if v[1] == 0 else " (exit %d)" % v[1])
                    for k, v in sec.items())))
            rows.append((n, sm, smin, route, fm, fmin, froute, pm, pmin, jm, jmin, lines, flines,
                         jp.returncode, sphase))
            log("N=%d smbcim %.1f ms (%s), forced fallback %.1f ms (%s), smbstatus %.1f ms, "
                "--json %.1f ms, connections %d / %d (want %d)%s"
                % (n, sm, route, fm, froute, pm, jm, lines, flines, 2 * n,
                   "" if lines == flines == 2 * n else "  <-- MISMATCH"))
        if args.hold:
            with open(args.hold, "w") as f:
                json.dump({"conf": server.conf, "smbcim": server.smbcim,
                           "chroot": env.suite, "clients": have}, f)
            log("holding %d clients; %s names the server; delete it to stop" % (have, args.hold))
            while os.path.exists(args.hold):
                time.sleep(1)
    finally:
        for h in holders:
            h.stop()
        server.stop()
    print()
    print("Samba %s (%s)\n" % (server.version, env.suite or "host"))
    print("| N clients | smbcim query (route) | its phases | smbcim, forced fallback | "
          "plain smbstatus | smbstatus --json | fallback / plain | plain / smbcim | "
          "json / smbcim | connections reported |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (n, sm, smin, route, fm, fmin, froute, pm, pmin, jm, jmin, lines, flines,
         jrc, sphase) in rows:
        print("| %d | %.1f (%.1f) %s | %s | %.1f (%.1f) | %.1f (%.1f) | %.1f (%.1f)%s | %.2f× | "
              "%.1f× | %.0f× | %d, %d / %d |"
              % (n, sm, smin, route, "%.1f" % sphase if sphase is not None else "?",
                 fm, fmin, pm, pmin, jm, jmin,
                 "" if jrc == 0 else " exit %d" % jrc, fm / pm, pm / sm, jm / sm, lines, flines,
                 2 * n))
    if sections:
        print("\n| N | " + " | ".join("smbstatus " + k for k, _ in SECTIONS) + " |")
        print("|---|" + "---|" * len(SECTIONS))
        for n, sec in sections:
            print("| %d | " % n + " | ".join(
                "%.0f%s" % (sec[k][0], "" if sec[k][1] == 0 else " (exit %d)" % sec[k][1])
                for k, _ in SECTIONS) + " |")
    print("\nms, median (minimum); each a whole process run; 'its phases': the median sum of "
          "smbcim's own load + evaluate + format (SMBCIM_TIMING), the rest is process start "
          "and exit.  smbcim both ways and plain "
          "smbstatus: %d runs each per size, in rounds; --json 5, 2, 1 runs (N <= 100, <= 500, "
          "more)." % args.runs)
    return 0


# ------------------------------------------------------------------ --check --

CHECK_PLAN = [
    # each entry: one TCP connection (one smbd) with one session
    {"name": "a1", "user": USER, "source": "127.0.0.11",
     "trees": [{"share": "Projects", "files": ["a1.txt", "a2.txt"]},
               {"share": "Finance Data", "files": ["f 1.txt"]}]},
    {"name": "a2", "user": USER, "source": "127.0.0.11",
     "trees": [{"share": "Projects", "files": ["a3.txt"]}]},
    {"name": "b1", "user": USER2, "source": "127.0.0.12",
     "trees": [{"share": "Finance Data",
                "files": [{"name": "owner.txt", "access": 0x1F01FF}]},
               {"share": "IPC$"},
               {"share": USER2, "files": ["home.txt"]}]},
    {"name": "b2", "user": USER2, "source": "127.0.0.11",
     "trees": [{"share": "backup$"}, {"share": "BACKUP$", "files": ["x.txt"]}]},
]
# One connection, one smbd, sessions of two users (as a terminal server's
# users share one connection): held by MULTI_CLIENT.
CHECK_MULTI = {"source": "127.0.0.13",
               "sessions": [{"user": USER, "trees": [{"share": "Projects", "files": ["m1.txt"]},
                                                     {"share": "Finance Data"}]},
                            {"user": USER2, "trees": [{"share": "Projects",
                                                       "files": ["m2.txt"]}]}]}
MULTI_CLIENT = r"""
import json, socket, sys
plan = json.loads(sys.argv[1])
_connect = socket.socket.connect
def connect(self, address):
    self.bind((plan["source"], 0))
    return _connect(self, address)
socket.socket.connect = connect
from impacket.smbconnection import SMBConnection
from impacket.smb3structs import (SMB2_DIALECT_21, FILE_READ_DATA, FILE_WRITE_DATA,
    FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_SHARE_DELETE, FILE_OPEN_IF, FILE_NON_DIRECTORY_FILE)
# SMB 2.1: no encryption, whose keys a second session set-up would mix up
conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=plan["port"], timeout=20,
                     preferredDialect=SMB2_DIALECT_21)
for i, s in enumerate(plan["sessions"]):
    if i:  # a new session on the same connection, not a re-authentication
        conn.getSMBServer()._Session["SessionID"] = 0
        conn.getSMBServer()._Session["TreeConnectTable"] = {}
    conn.login(s["user"], plan["password"], "")
    for t in s["trees"]:
        tid = conn.connectTree(t["share"])
        for f in t.get("files", []):
            conn.createFile(tid, f, desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA,
                            shareMode=FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                            creationOption=FILE_NON_DIRECTORY_FILE,
                            creationDisposition=FILE_OPEN_IF)
print(json.dumps({"ready": True}), flush=True)
sys.stdin.read()
"""


class MultiHolder(Holder):
    def __init__(self, server, plan):
        arg = json.dumps(dict(plan, port=server.port, password=server.password))
        self.proc = subprocess.Popen([PY, "-c", MULTI_CLIENT, arg], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            json.loads(read_line(self.proc, 60, "SMB client with two sessions"))
        except BaseException:
            self.stop()
            raise


def expected_answers():
    """The answers the plans imply, by Samba's counting rules: a
    connection's NumberOfFiles counts the opens of its smbds under the
    share's path (any user's), a session's ResourcesOpened the opens of its
    smbds by its uid (docs/values.md)."""
    smbds = [(c["source"], [{"user": c["user"], "trees": c["trees"]}]) for c in CHECK_PLAN]
    smbds.append((CHECK_MULTI["source"], CHECK_MULTI["sessions"]))
    canon = {"BACKUP$": "backup$"}  # smbd records the share's own name
    conns, sess = {}, {}
    for i, (machine, sessions) in enumerate(smbds):
        for se in sessions:
            s = sess.setdefault((machine, se["user"]), set())
            s.add((i, se["user"]))
            for t in se["trees"]:
                share = canon.get(t["share"], t["share"])
                c = conns.setdefault((machine, share, se["user"]), [0, set()])
                c[0] += 1
                c[1].add(i)
    opens = []   # (smbd, share, user)
    for i, (machine, sessions) in enumerate(smbds):
        for se in sessions:
            for t in se["trees"]:
                opens += [(i, canon.get(t["share"], t["share"]), se["user"])] * \
                    len(t.get("files", []))
    cw = sorted(({"ComputerName": k[0], "ShareName": k[1], "UserName": k[2],
                  "NumberOfUsers": v[0],
                  "NumberOfFiles": sum(1 for o in opens if o[0] in v[1] and o[1] == k[1])}
                 for k, v in conns.items()), key=lambda d: json.dumps(d, sort_keys=True))
    sw = {k: sum(1 for o in opens if (o[0], o[2]) in v) for k, v in sess.items()}
    return cw, sw


def norm(rows, drop=("ActiveTime", "ConnectionID", "__PATH", "__SERVER", "__GENUS",
                     "__DYNASTY", "__NAMESPACE", "__DERIVATION", "__PROPERTY_COUNT")):
    out = []
    for r in rows:
        d = {k: v for k, v in r.items() if k not in drop}
        for k, v in list(d.items()):
            if isinstance(v, str):
                d[k] = v.replace("SMBCIMBENCH", "SERVER")
        out.append(d)
    return sorted(out, key=lambda d: json.dumps(d, sort_keys=True))


def check(args, env):
    server = Server(env, users=(USER, USER2))
    holder = multi = None
    bad = 0
    try:
        holder = Holder(server, CHECK_PLAN, "check", timeout=60)
        multi = MultiHolder(server, CHECK_MULTI)
        got = {}
        for route, extra in (("default", {}), ("smbstatus", {"SMBCIM_SAMBA_SOURCE": "smbstatus"})):
            e = dict(os.environ, SMBCIM_TIMING="1", **extra)
            ans = {}
            for cls in ("Win32_ServerConnection", "Win32_ServerSession", "Win32_ConnectionShare"):
                p = env.run([server.smbcim, "--smb-conf", server.conf, "--format", "json",
                             "query", "SELECT * FROM " + cls], capture_output=True, env=e)
                if p.returncode != 0:
                    print("FAIL %s %s: exit %d: %s" % (route, cls, p.returncode,
                                                       p.stderr.decode().strip()))
                    bad += 1
                    ans[cls] = []
                    continue
                ans[cls] = json.loads(p.stdout)
                ans["route"] = route_of(p.stderr)
                if args.dump:
                    with open(os.path.join(args.dump, "%s-%s.json" % (route, cls)), "w") as f:
                        f.write(p.stdout.decode())
            got[route] = ans
        if args.dump:
            for name, opt in [("p", ["-p"]), ("S", ["-S"]), ("L", ["-L"]), ("Ln", ["-L", "-n"]),
                              ("n", ["-n"]), ("plain", []), ("json", ["--json"]),
                              ("json-p", ["--json", "-p"]), ("json-S", ["--json", "-S"]),
                              ("json-L", ["--json", "-L"])]:
                p = env.run(["smbstatus", "-s", server.conf] + opt, capture_output=True)
                with open(os.path.join(args.dump, "smbstatus-%s.txt" % name), "wb") as f:
                    f.write(p.stdout + (b"\n[stderr]\n" + p.stderr if p.stderr else b"")
                            + b"\n[exit %d]\n" % p.returncode)
        want_conns, want_sess = expected_answers()
        for route, ans in got.items():
            conns = norm(ans["Win32_ServerConnection"])
            short = sorted(({"ComputerName": c["ComputerName"], "ShareName": c["ShareName"],
                             "UserName": c["UserName"], "NumberOfUsers": c.get("NumberOfUsers"),
                             "NumberOfFiles": c.get("NumberOfFiles")} for c in conns),
                           key=lambda d: json.dumps(d, sort_keys=True))
            ok = short == want_conns
            bad += not ok
            print("%s %s route (%s): Win32_ServerConnection = the plan's %d connections%s"
                  % ("ok  " if ok else "FAIL", route, ans.get("route"), len(want_conns),
                     "" if ok else "\n  got  %s\n  want %s" % (short, want_conns)))
            sess = {(s["ComputerName"], s["UserName"]): s.get("ResourcesOpened")
                    for s in ans["Win32_ServerSession"]}
            ok = sess == want_sess
            bad += not ok
            print("%s %s route: Win32_ServerSession ResourcesOpened = the plan's%s"
                  % ("ok  " if ok else "FAIL", route,
                     "" if ok else "\n  got  %s\n  want %s" % (sess, want_sess)))
            ok = all(s.get("ActiveTime") is not None for s in ans["Win32_ServerSession"]) and \
                all(c.get("ActiveTime") is not None for c in ans["Win32_ServerConnection"])
            bad += not ok
            print("%s %s route: every ActiveTime known" % ("ok  " if ok else "FAIL", route))
        a, b = got["default"], got["smbstatus"]
        for cls in ("Win32_ServerConnection", "Win32_ServerSession", "Win32_ConnectionShare"):
            same = norm(a[cls]) == norm(b[cls])
            bad += not same
            print("%s %s: default route (%s) = smbstatus route, but ActiveTime and ConnectionID"
                  % ("ok  " if same else "FAIL", cls, a.get("route")))
            if not same:
                print("  default   %s\n  smbstatus %s" % (norm(a[cls]), norm(b[cls])))
        ids = sorted((c.get("ConnectionID") for c in b["Win32_ServerConnection"]), key=str)
        print("info smbstatus route ConnectionIDs: %s; default route: %s"
              % (ids, sorted((c.get("ConnectionID") for c in a["Win32_ServerConnection"]),
                             key=str)))
        if args.against:
            # answers of another run (another Samba) through its default route
            with open(args.against) as f:
                ref = json.load(f)["default"]
            for cls in ("Win32_ServerConnection", "Win32_ServerSession", "Win32_ConnectionShare"):
                same = norm(b[cls]) == ref[cls]
                bad += not same
                print("%s %s: smbstatus route = %s's default route, but ActiveTime and "
                      "ConnectionID" % ("ok  " if same else "FAIL", cls, args.against))
        if args.dump:
            with open(os.path.join(args.dump, "normalised.json"), "w") as f:
                json.dump({r: {c: norm(v) for c, v in ans.items() if c != "route"}
                           for r, ans in got.items()}, f, indent=1, sort_keys=True)
    finally:
        if multi:
            multi.stop()
        if holder:
            holder.stop()
        server.stop()
    print("%s: %s" % (server.version, "all equal" if bad == 0 else "%d difference(s)" % bad))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1,10,100,500,1000")
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--chroot", default=os.environ.get("SMBCIM_BENCH_CHROOT") or None,
                    choices=["trixie", "sid"])
    ap.add_argument("--sections", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--dump")
    ap.add_argument("--hold", metavar="FILE",
                    help="after the last size, keep the clients and write the server's conf "
                         "path to FILE; stop when FILE is deleted")
    ap.add_argument("--against", help="normalised.json of another --check --dump run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        print("bench/live.py: run as root", file=sys.stderr)
        return 1
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(hard, 65536)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = Env(args.chroot)
    return check(args, env) if args.check else bench(args, env)


if __name__ == "__main__":
    sys.exit(main())
