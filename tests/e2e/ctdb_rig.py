#!/usr/bin/python3
"""A real CTDB cluster on one machine, for the clustered-Samba tests.

Like Samba's own ctdb/tests/local_daemons.sh: one ctdbd per node
(CTDB_TEST_MODE=yes, a CTDB_BASE per node with its ctdb.conf, nodes file,
socket, pid file and database directories; failover off, no public
addresses; the cluster lock a file in the temporary directory), then one
smbd per node with `clustering = yes`, started one after the other (started
together the second refuses: g_lock_lock ... NT_STATUS_POSSIBLE_DEADLOCK).

ctdbd's port (4379) is fixed, so nodes differ by address: 127.0.0.11,
127.0.0.12, ...  Samba only binds addresses an interface has, so the
cluster lives in a network namespace the rig creates (smbcim-ctdb-PID) with
those addresses on its loopback; nothing is added to the host's network.
The clients (smb_holder.py) run in that namespace too (Cluster.netns_argv);
smbcim and smbstatus reach ctdbd over its Unix socket from anywhere.

With chroot="trixie" or "sid" (a chroot of scripts/chroot.sh: Samba and
ctdb 4.22, 4.25) ctdbd, ctdb, smbd, smbpasswd, net and smbstatus are that
chroot's and run in it (Cluster.inside), the test users are made in it
(its own /etc/passwd), and the temporary directory is under its /tmp:
every path the rig hands out (conf, socket, base, share_path, dir) is the
one seen inside; Cluster.host(path) is the same file from the host
(Cluster.hostdir is dir from the host).  The SMB clients stay on the host.

    with Cluster(nodes=2) as c:      # about 10 s
        c.conf(0)                    # node 0's smb.conf
        c.run_holder(plan_path)      # impacket clients in the namespace

Everything started is stopped by pid; the namespace and the directory are
removed.  Needs root, ctdb (Debian's package), iproute2.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

CTDBD = "/usr/sbin/ctdbd"
CTDB = "/usr/bin/ctdb"
CTDB_HELPERS = "/usr/libexec/ctdb"      # Debian's CTDB_HELPER_BINDIR
USERS_GECOS = "smbcim ctdb e2e user"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHROOT_SH = os.path.join(ROOT, "scripts", "chroot.sh")
# Commands run in a chroot get a PATH of the chroot's own directories.
CHROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class RigError(Exception):
    pass


def _sh(*argv, **kw):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=kw.pop("timeout", 60),
                          **kw)


def chroot_dir(suite):
    """The directory of scripts/chroot.sh's chroot of suite, its /proc and
    /dev mounted; RigError when it is not set up."""
    if suite not in ("trixie", "sid"):
        raise RigError("chroot %r: trixie or sid" % suite)
    p = _sh("bash", CHROOT_SH, "run", suite, "true")      # mounts /proc and /dev there
    if p.returncode != 0:
        raise RigError("chroot %s: %s" % (suite, p.stderr.strip()))
    return _sh("bash", CHROOT_SH, "path", suite).stdout.strip()


def _free_port(addr):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Cluster:
    def __init__(self, nodes=2, shares=None, password="Ctdb-e2e-1",
                 users=("smbcim_cta", "smbcim_ctb"), chroot=None):
        self.n = nodes
        self.password = password
        self.users = list(users)
        self.chroot = chroot or None
        self.croot = chroot_dir(chroot) if chroot else ""   # "" on the host
        self.hostdir = tempfile.mkdtemp(prefix="smbcim-ctdb.",
                                        dir=os.path.join(self.croot, "tmp") if chroot else None)
        os.chmod(self.hostdir, 0o755)
        self.dir = self.hostdir[len(self.croot):]    # as Samba sees it
        self.netns = "smbcim-ctdb-%d" % os.getpid()
        self.port = _free_port("127.0.0.1")
        self.ctdbd = {}          # node -> Popen
        self.smbd = {}           # node -> Popen
        self.created_users = []
        self.shares = shares or {"Projects": "projects", "Finance": "finance"}

    # -- paths ----------------------------------------------------------
    def addr(self, i):
        return "127.0.0.%d" % (11 + i)

    def base(self, i):
        return os.path.join(self.dir, "node%d" % i)

    def conf(self, i):
        return os.path.join(self.dir, "smb%d" % i, "smb.conf")

    def socket(self, i):
        return os.path.join(self.base(i), "run", "ctdbd.socket")

    def share_path(self, name):
        return os.path.join(self.dir, "shares", self.shares[name])

    def host(self, p):
        """A path as Samba sees it -> the same file from the host."""
        return self.croot + p

    def netns_argv(self, argv):
        return ["ip", "netns", "exec", self.netns] + list(argv)

    def inside(self, argv):
        """argv run where Samba runs (chroot(8) execs it there: same pid)."""
        return ["chroot", self.croot] + list(argv) if self.chroot else list(argv)

    def env(self, env=None, **more):
        e = dict(os.environ if env is None else env, **more)
        if self.chroot:
            e["PATH"] = CHROOT_PATH
        return e

    def run(self, argv, timeout=60, **kw):
        """argv where Samba runs (on the host or in the chroot), output
        captured as text."""
        return subprocess.run(self.inside(argv), capture_output=True, text=True, timeout=timeout,
                              env=self.env(kw.pop("env", None)), **kw)

    def ctdb(self, i, *args, timeout=20):
        return self.run([CTDB] + list(args), timeout=timeout, env=self.ctdb_env(i))

    def ctdb_env(self, i):
        # Test mode: paths under CTDB_BASE.  Since 4.25 (not 4.17, 4.22) it
        # also needs CTDB_TEST_HELPER_BINDIR (ctdbd aborts without it:
        # "Broken CTDB setup, CTDB_TEST_HELPER_BINDIR not set in test mode").
        return self.env(CTDB_TEST_MODE="yes", CTDB_BASE=self.base(i),
                        CTDB_TEST_HELPER_BINDIR=CTDB_HELPERS)

    def samba_version(self):
        return (self.run(["smbd", "--version"]).stdout.split() or ["?"])[-1]

    # -- set-up ---------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        t0 = time.monotonic()
        for tool in (CTDBD, CTDB, "/usr/sbin/smbd"):
            if not os.access(self.host(tool), os.X_OK):
                raise RigError("%s not found (Debian package ctdb / samba)%s" % (
                    self.host(tool), " in the chroot %s" % self.chroot if self.chroot else ""))
        if not shutil.which("ip"):
            raise RigError("ip (iproute2) not found")
        _sh("ip", "netns", "del", self.netns)
        for argv in (["ip", "netns", "add", self.netns],
                     ["ip", "-n", self.netns, "link", "set", "lo", "up"]) + tuple(
                         ["ip", "-n", self.netns, "addr", "add", "%s/8" % self.addr(i), "dev", "lo"]
                         for i in range(self.n)):
            p = _sh(*argv)
            if p.returncode != 0:
                raise RigError("%s: %s" % (" ".join(argv), p.stderr.strip()))
        nodes = "".join("%s\n" % self.addr(i) for i in range(self.n))
        for i in range(self.n):
            b = self.base(i)
            for d in ("events/legacy", "db/volatile", "db/persistent", "db/state", "run"):
                os.makedirs(self.host(os.path.join(b, d)))
            with open(self.host(os.path.join(b, "nodes")), "w") as f:
                f.write(nodes)
            with open(self.host(os.path.join(b, "ctdb.conf")), "w") as f:
                f.write("[logging]\n\tlocation = file:%s/log.ctdb\n\tlog level = NOTICE\n"
                        "[cluster]\n\tnode address = %s\n\tcluster lock = %s/cluster.lock\n"
                        "[database]\n\tvolatile database directory = %s/db/volatile\n"
                        "\tpersistent database directory = %s/db/persistent\n"
                        "\tstate database directory = %s/db/state\n"
                        "[failover]\n\tdisabled = true\n"
                        "[legacy]\n\trealtime scheduling = false\n"
                        % (b, self.addr(i), self.dir, b, b, b))
        for i in range(self.n):
            self.start_ctdbd(i)
        self.wait_healthy(40)
        self.write_samba()
        for i in range(self.n):
            self.start_smbd(i)
        for u in self.users:
            # where smbd looks them up: the chroot's /etc/passwd in one
            if self.run(["getent", "passwd", u]).returncode != 0:
                p = self.run(["useradd", "-M", "-s", "/usr/sbin/nologin", "-c", USERS_GECOS, u])
                if p.returncode != 0:
                    raise RigError("useradd %s: %s" % (u, p.stderr.strip()))
                self.created_users.append(u)
            elif self.run(["getent", "passwd", u]).stdout.split(":")[4] == USERS_GECOS:
                self.created_users.append(u)  # left over by a killed run: ours
            # passdb is a clustered persistent database: once for the cluster
            p = self.run(["smbpasswd", "-c", self.conf(0), "-a", "-s", u],
                         input="%s\n%s\n" % (self.password, self.password))
            if p.returncode != 0:
                raise RigError("smbpasswd -a %s: %s" % (u, p.stderr.strip()))
        self.setup_seconds = time.monotonic() - t0

    def start_ctdbd(self, i):
        env = self.ctdb_env(i)
        log = open(self.host(os.path.join(self.base(i), "stderr")), "a")
        self.ctdbd[i] = subprocess.Popen(self.netns_argv(self.inside([CTDBD, "--interactive"])),
                                         env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        log.close()

    def wait_healthy(self, limit):
        end = time.monotonic() + limit
        last = ""
        while time.monotonic() < end:
            for i, p in self.ctdbd.items():
                if p.poll() is not None:
                    b = self.host(self.base(i))
                    raise RigError("ctdbd of node %d exited (%s); %s%s" % (
                        i, p.returncode, self.log_tail(os.path.join(b, "log.ctdb")),
                        self.log_tail(os.path.join(b, "stderr"))))
            st = self.ctdb(0, "status")
            last = st.stdout + st.stderr
            ok = sum(1 for line in st.stdout.splitlines()
                     if line.startswith("pnn:") and " OK" in line)
            if st.returncode == 0 and ok == len(self.ctdbd):
                return
            time.sleep(0.5)
        raise RigError("the CTDB cluster did not become healthy in %d s: %s" % (limit, last))

    def write_samba(self):
        for name, sub in self.shares.items():
            d = self.host(self.share_path(name))
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o1777)
            for fn in ("plan.txt", "notes.txt", "budget.xlsx"):
                with open(os.path.join(d, fn), "w") as f:
                    f.write("%s\n" % fn)
                os.chmod(os.path.join(d, fn), 0o666)
        for i in range(self.n):
            s = os.path.dirname(self.conf(i))
            for d in ("private", "lock", "state", "cache", "pid", "ncalrpc", "log"):
                os.makedirs(self.host(os.path.join(s, d)), exist_ok=True)
            os.chmod(self.host(os.path.join(s, "private")), 0o700)
            shares = "".join("[%s]\n    path = %s\n    read only = no\n" % (n, self.share_path(n))
                             for n in self.shares)
            with open(self.host(self.conf(i)), "w") as f:
                f.write("""# node %(i)d of the smbcim CTDB test cluster (tests/e2e/ctdb_rig.py)
[global]
    clustering = yes
    ctdbd socket = %(sock)s
    server role = standalone
    netbios name = SMBCIMCLUSTER
    workgroup = SMBCIMDEMO
    smb ports = %(port)d
    interfaces = %(addr)s/8
    bind interfaces only = yes
    disable netbios = yes
    private dir = %(s)s/private
    lock directory = %(s)s/lock
    state directory = %(s)s/state
    cache directory = %(s)s/cache
    pid directory = %(s)s/pid
    ncalrpc dir = %(s)s/ncalrpc
    log file = %(s)s/log/log.%%m
    log level = 1
    passdb backend = tdbsam
    load printers = no
    printcap name = /dev/null
    disable spoolss = yes
    map to guest = never
    usershare max shares = 0
%(shares)s""" % {"i": i, "sock": self.socket(i), "port": self.port, "addr": self.addr(i),
                 "s": s, "shares": shares})

    def start_smbd(self, i):
        log = open(self.host(os.path.join(os.path.dirname(self.conf(i)), "stdout")), "a")
        # Not --no-process-group: smbd's parent signals its whole process
        # group when it stops (its children), which would be ours then.
        # Without it smbd calls setsid() and its group is its pid.
        self.smbd[i] = subprocess.Popen(
            self.netns_argv(self.inside(["/usr/sbin/smbd", "--foreground", "-s", self.conf(i)])),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env())
        log.close()
        end = time.monotonic() + 30
        while time.monotonic() < end:
            if self.smbd[i].poll() is not None:
                raise RigError("smbd of node %d exited during start-up: %s" % (
                    i, self.log_tail(self.host(os.path.join(os.path.dirname(self.conf(i)), "log",
                                                            "log.smbd")))))
            p = _sh(*self.netns_argv(["bash", "-c", "echo > /dev/tcp/%s/%d" % (
                self.addr(i), self.port)]))
            if p.returncode == 0:
                return
            time.sleep(0.2)
        raise RigError("smbd of node %d not listening on %s:%d after 30 s" % (
            i, self.addr(i), self.port))

    @staticmethod
    def log_tail(path, n=12):
        try:
            with open(path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError as e:
            return str(e)

    # -- faults -----------------------------------------------------------
    def freeze_ctdbd(self, i):
        os.kill(self.ctdbd[i].pid, signal.SIGSTOP)

    def thaw_ctdbd(self, i):
        os.kill(self.ctdbd[i].pid, signal.SIGCONT)

    def kill_node(self, i):
        """A node dies: its ctdbd is killed (SIGKILL, its whole group); its
        smbd, which cannot live without ctdbd, is left to exit by itself
        (smbd_exited: whether it did within `wait` seconds)."""
        try:
            os.killpg(self.ctdbd[i].pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.ctdbd[i].wait()

    def smbd_exited(self, i, wait=20):
        try:
            self.smbd[i].wait(wait)
            return True
        except subprocess.TimeoutExpired:
            return False

    def wait_node_gone(self, i, limit=40):
        """Until node `survivor`'s ctdb status shows node i DISCONNECTED and
        recovery is over (the databases are usable again)."""
        survivor = 0 if i != 0 else 1
        end = time.monotonic() + limit
        last = ""
        while time.monotonic() < end:
            st = self.ctdb(survivor, "status")
            last = st.stdout + st.stderr
            gone = any(line.startswith("pnn:%d " % i) and "DISCONNECTED" in line
                       for line in st.stdout.splitlines())
            if st.returncode == 0 and gone and "Recovery mode:NORMAL" in st.stdout:
                return last
            time.sleep(0.5)
        raise RigError("node %d did not show as gone within %d s: %s" % (i, limit, last))

    # -- tear-down --------------------------------------------------------
    def stop(self):
        # smbd and ctdbd each lead their own process group (smbd's setsid,
        # start_new_session for ctdbd) with their children in it: each
        # group is signalled, first TERM, then KILL for what is left.
        for procs in (self.smbd, self.ctdbd):
            for p in procs.values():
                for sig in (signal.SIGCONT, signal.SIGTERM):
                    try:
                        os.killpg(p.pid, sig)
                    except (ProcessLookupError, PermissionError):
                        pass
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    pass
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                if p.poll() is None:
                    p.wait()
        _sh("ip", "netns", "del", self.netns)
        for u in self.created_users:
            self.run(["userdel", u])
        self.created_users = []
        shutil.rmtree(self.hostdir, ignore_errors=True)
