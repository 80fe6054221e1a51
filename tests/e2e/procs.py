"""Process and port helpers shared by the end-to-end tests (tests/e2e/) and
the benchmarks (bench/): importable from both (they put tests/e2e on
sys.path)."""
import os
import select
import shutil
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def read_line(proc, timeout, what, error=RuntimeError):
    """First line of proc.stdout within timeout seconds; else raises error
    naming `what`, the exit status, what was read and the end of stderr."""
    deadline = time.monotonic() + timeout
    buf = b""
    fd = proc.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            if b"\n" in buf:
                return buf.split(b"\n", 1)[0].decode()
        elif proc.poll() is not None:
            break
    err = ""
    if proc.stderr:
        try:
            err = proc.stderr.read().decode(errors="replace")[-1500:]
        except Exception:  # noqa: BLE001 - only for the message
            pass
    raise error("%s: no answer within %d s (exit %s) %s %s"
                % (what, timeout, proc.poll(), buf.decode(errors="replace")[-500:], err))


class Tally:
    """The "ok NAME" / "FAIL NAME -- detail" lines of an end-to-end runner
    and their count, for its closing "N passed, N failed" line."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   " + name, flush=True)
        else:
            self.failed += 1
            d = str(detail)
            print("FAIL %s%s" % (name, (" -- " + d[:1200]) if d else ""), flush=True)
        return cond

    def summary(self):
        """Prints the closing line; the runner's exit status."""
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 1 if self.failed else 0


def send_by_hand(port, head, chunks, delay=0.0, limit=8.0, tls_context=None):
    """Bytes written by hand to 127.0.0.1:port (through tls_context when
    given): head, then each chunk, delay apart, for at most limit s; then
    the answer up to the end of its headers (the server may close early:
    what it said is still read)."""
    s = socket.create_connection(("127.0.0.1", port), 10)
    if tls_context is not None:
        s = tls_context.wrap_socket(s)
    resp = b""
    t0 = time.time()
    try:
        s.sendall(head.encode())
        for c in chunks:
            s.sendall(c)
            if delay:
                time.sleep(delay)
            if time.time() - t0 > limit:
                break
    except OSError:
        pass
    try:
        s.settimeout(10)
        while b"\r\n\r\n" not in resp:
            b = s.recv(65536)
            if not b:
                break
            resp += b
    except OSError:
        pass
    s.close()
    return resp


def sh(*args, **kw):
    """A command's result, its output captured as text."""
    import subprocess
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


def set_password(user, pw):
    subprocess.run(["chpasswd"], input="%s:%s\n" % (user, pw), text=True, check=True)


class TempAccounts:
    """What a test makes for PAM logins, and removes at the end (only what
    it made itself): PAM service files (copies of dist/pam.d/smbcimd),
    groups, and users without a home or a shell, with passwords."""

    def __init__(self, gecos):
        self.gecos = gecos
        self.users, self.groups, self.pam_files = [], [], []

    def pam_service(self, name="smbcimd"):
        path = "/etc/pam.d/" + name
        if not os.path.exists(path):
            shutil.copy(os.path.join(ROOT, "dist", "pam.d", "smbcimd"), path)
            self.pam_files.append(path)
        return path

    def group(self, name):
        if sh("getent", "group", name).returncode != 0 and sh("groupadd", name).returncode == 0:
            self.groups.append(name)

    def user(self, name, pw, groups=()):
        if sh("getent", "passwd", name).returncode != 0:
            args = ["useradd", "-M", "-s", "/usr/sbin/nologin", "-c", self.gecos]
            if groups:
                args += ["-G", ",".join(groups)]
            if sh(*(args + [name])).returncode == 0:
                self.users.append(name)
        set_password(name, pw)

    def remove(self):
        for u in self.users:
            sh("userdel", u)
        for g in self.groups:
            sh("groupdel", g)
        for path in self.pam_files:
            os.unlink(path)
        self.users, self.groups, self.pam_files = [], [], []


WORKER_USER = "smbcim"


def ensure_worker_user():
    """The system account smbcimd's unprivileged worker runs as (user =,
    default smbcim), made as `make install` and the package make it when
    it is missing; kept afterwards, like theirs."""
    if sh("getent", "passwd", WORKER_USER).returncode != 0:
        subprocess.run(["useradd", "--system", "--user-group", "-M", "-d", "/nonexistent",
                        "-s", "/usr/sbin/nologin", "-c", "smbcim WBEM server", WORKER_USER],
                       check=True)
    return WORKER_USER


def worker_pid(pid):
    """The worker of the smbcimd started as pid (its one smbcimd child, when
    it split: docs/smbcimd.md, "Least privilege"), else pid itself."""
    kids = sh("pgrep", "-P", str(pid), "-x", "smbcimd").stdout.split()
    return int(kids[0]) if len(kids) == 1 else pid


def self_signed_cert(directory, cn="localhost", *extra):
    """key.pem and cert.pem (RSA 2048, two days) in directory: openssl's
    result.  extra: more openssl req arguments (-addext ...).  The key is
    made readable by smbcimd's worker as smbcimd-mkcert makes it (group
    smbcim, 0640); the directory must be searchable by it."""
    p = sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
           "-subj", "/CN=" + cn, *extra, "-keyout", os.path.join(directory, "key.pem"),
           "-out", os.path.join(directory, "cert.pem"))
    if p.returncode == 0:
        key = os.path.join(directory, "key.pem")
        shutil.chown(key, group=ensure_worker_user())
        os.chmod(key, 0o640)
    return p
