#!/usr/bin/python3
"""Holds real SMB connections open (python3-impacket) until told to stop.

Used by demo/run.sh and tests/e2e/run_e2e.py.  Run it with Debian's
/usr/bin/python3 (python3-impacket is installed for that interpreter).

    smb_holder.py PLAN.json

PLAN.json:
    {"host": "127.0.0.1", "port": 4455, "password": "...",
     "max_hold": 300,
     "connections": [
        {"name": "alice-1", "user": "smbcim_alice",
         "trees": [{"share": "Projects",
                    "files": ["plan.txt", {"name": "notes.txt", "access": 3}]},
                   {"share": "IPC$"}]}
     ]}

A connection entry can give "source": "127.0.0.7" to connect from that
loopback address (smbd then sees another client machine).

Each connection is its own TCP connection (own smbd child: impacket draws a
new ClientGUID per connection) with one session; each tree is one tree
connect; each file is created if missing and held open (default access
FILE_READ_DATA|FILE_WRITE_DATA = 0x3; a file entry can give "access").

When everything is set up it prints one JSON line to stdout:
    {"ready": true, "connections": [{"name", "user", "local_port", "trees":
      [{"share", "tid", "files": [...]}]}]}
and then holds until stdin reaches EOF, SIGTERM/SIGINT arrives, or
max_hold seconds pass; then it closes the files, disconnects and logs off.
On a set-up error it prints {"ready": false, "error": "..."} and exits 1.
"""
import json
import os
import select
import signal
import socket
import sys
import time

from impacket.smbconnection import SMBConnection
from impacket.smb3structs import (FILE_READ_DATA, FILE_WRITE_DATA,
                                  FILE_SHARE_READ, FILE_SHARE_WRITE,
                                  FILE_SHARE_DELETE, FILE_OPEN_IF,
                                  FILE_NON_DIRECTORY_FILE)

stop = False
BIND = {"addr": None}


class _BindingSocket(socket.socket):
    """socket.socket that binds to BIND["addr"] before connecting."""

    def connect(self, address):
        if BIND["addr"]:
            self.bind((BIND["addr"], 0))
        return super().connect(address)


socket.socket = _BindingSocket


def on_signal(signum, frame):
    global stop
    stop = True


def main():
    if len(sys.argv) != 2:
        print("usage: smb_holder.py PLAN.json", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    host = plan.get("host", "127.0.0.1")
    port = int(plan["port"])
    held = []   # (conn, tid, fid)
    conns = []
    report = []
    step = "start"
    try:
        for c in plan["connections"]:
            step = "%s: connect/login" % c.get("name", c["user"])
            BIND["addr"] = c.get("source")
            conn = SMBConnection(host, host, sess_port=port, timeout=20)
            conns.append(conn)
            conn.login(c["user"], c.get("password", plan.get("password", "")), "")
            try:
                local_port = conn.getSMBServer().get_socket().getsockname()[1]
            except Exception:
                local_port = None
            rep = {"name": c.get("name", c["user"]), "user": c["user"],
                   "local_port": local_port, "trees": []}
            for t in c.get("trees", []):
                step = "%s: tree connect %s" % (c.get("name", c["user"]), t["share"])
                tid = conn.connectTree(t["share"])
                trep = {"share": t["share"], "tid": tid, "files": []}
                for fspec in t.get("files", []):
                    if isinstance(fspec, str):
                        fspec = {"name": fspec}
                    step = "%s: open %s on %s" % (c.get("name", c["user"]), fspec["name"], t["share"])
                    access = int(fspec.get("access", FILE_READ_DATA | FILE_WRITE_DATA))
                    fid = conn.createFile(
                        tid, fspec["name"], desiredAccess=access,
                        shareMode=FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                        creationOption=FILE_NON_DIRECTORY_FILE,
                        creationDisposition=FILE_OPEN_IF)
                    held.append((conn, tid, fid))
                    trep["files"].append(fspec["name"])
                rep["trees"].append(trep)
            report.append(rep)
    except Exception as e:  # noqa: BLE001 - report any set-up failure
        print(json.dumps({"ready": False, "error": "%s: %s: %s" % (step, type(e).__name__, e)}),
              flush=True)
        return 1
    print(json.dumps({"ready": True, "connections": report}), flush=True)

    deadline = time.monotonic() + float(plan.get("max_hold", 300))
    stdin_open = True
    while not stop and time.monotonic() < deadline:
        if stdin_open:
            try:
                r, _, _ = select.select([sys.stdin], [], [], 0.2)
            except InterruptedError:
                continue
            if r and not os.read(sys.stdin.fileno(), 4096):
                break          # EOF: the caller wants us to stop
        else:
            time.sleep(0.2)

    for conn, tid, fid in held:
        try:
            conn.closeFile(tid, fid)
        except Exception:
            pass
    for conn in conns:
        try:
            conn.logoff()
        except Exception:
            pass
        try:
            conn.close()
        except Exception:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
