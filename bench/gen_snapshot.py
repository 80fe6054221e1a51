#!/usr/bin/env python3
"""Writes a synthetic snapshot (docs/snapshot-format.md) shaped like a busy
Samba server: SHARES shares, SESSIONS sessions, TCONS tree connects and
OPENS open files, with the fields and layout Samba 4.17's
`smbstatus --json` prints.

usage: gen_snapshot.py SHARES SESSIONS TCONS OPENS > file.json
Deterministic (fixed seed), so runs are comparable.
"""
import json
import random
import sys


def main():
    nshares, nsess, ntcons, nopens = (int(x) for x in sys.argv[1:5])
    rnd = random.Random(42)
    out = sys.stdout
    w = out.write
    shares = [{"name": "IPC$", "kind": "ipc", "administrative": True, "path": "/tmp",
               "comment": "IPC Service (bench)", "max_connections": 0}]
    for i in range(1, nshares):
        shares.append({"name": f"share{i:05d}", "kind": "disk", "administrative": False,
                       "path": f"/srv/share{i:05d}", "comment": f"Share number {i}",
                       "max_connections": 0 if i % 7 else 50})
    w('{"smbcim_snapshot": 1,\n"server": {"name": "BENCH01", "taken_at": "2026-11-24T12:00:00.000000+00:00"},\n')
    w('"shares": ' + json.dumps(shares, indent=1) + ',\n')
    w('"smbstatus": {"timestamp": "2026-11-24T12:00:00.000000+0000", "version": "4.17.12-Debian", "smb_conf": "/etc/samba/smb.conf",\n')
    # sessions: one smbd per client machine (pid), users spread over them
    w('"sessions": {')
    sess = []
    for i in range(nsess):
        sid = str(1000000 + i)
        pid = str(20000 + i)
        ip = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"
        user = f"user{i % 5000:04d}"
        sess.append((sid, pid, ip, user, 1000 + i % 5000))
        rec = {"session_id": sid,
               "server_id": {"pid": pid, "task_id": "0", "vnn": "4294967295",
                             "unique_id": str(9000000000000000000 + i)},
               "uid": 1000 + i % 5000, "gid": 100, "username": user, "groupname": "users",
               "remote_machine": ip, "hostname": f"ipv4:{ip}:{40000 + i % 20000}",
               "session_dialect": "SMB3_11",
               "encryption": {"cipher": "-", "degree": "none"},
               "signing": {"cipher": "AES-128-GMAC", "degree": "partial"}}
        w(("," if i else "") + "\n" + json.dumps(sid) + ": " + json.dumps(rec))
    w('\n},\n"tcons": {')
    tcons = []
    for i in range(ntcons):
        s = sess[i % nsess]
        share = shares[1 + (i * 7919) % (nshares - 1)] if nshares > 1 else shares[0]
        if i % 10 == 0:
            share = shares[0]
        tid = str(3000000 + i)
        tcons.append((s, share))
        rec = {"service": share["name"],
               "server_id": {"pid": s[1], "task_id": "0", "vnn": "4294967295",
                             "unique_id": str(9000000000000000000 + int(s[0]) - 1000000)},
               "tcon_id": tid, "session_id": s[0], "machine": s[2],
               "connected_at": "2026-11-24T%02d:%02d:%02d.%06d+00:00" % (
                   rnd.randrange(0, 12), rnd.randrange(60), rnd.randrange(60), rnd.randrange(1000000)),
               "encryption": {"cipher": "-", "degree": "none"},
               "signing": {"cipher": "-", "degree": "none"}}
        w(("," if i else "") + "\n" + json.dumps(tid) + ": " + json.dumps(rec))
    w('\n},\n"open_files": {')
    disk = [t for t in tcons if t[1]["kind"] == "disk"] or tcons
    for i in range(nopens):
        s, share = disk[(i * 104729) % len(disk)]
        path = share["path"]
        fname = f"dir{i % 97}/file{i}.dat"
        rec = {"service_path": path, "filename": fname,
               "fileid": {"devid": 65024, "inode": 1000000 + i, "extid": 0},
               "num_pending_deletes": 0,
               "opens": {f"{s[1]}/{i}": {
                   "server_id": {"pid": s[1], "task_id": "0", "vnn": "4294967295",
                                 "unique_id": str(9000000000000000000 + int(s[0]) - 1000000)},
                   "uid": s[4], "share_file_id": str(i),
                   "sharemode": {"hex": "0x00000007", "READ": True, "WRITE": True, "DELETE": True, "text": "RWD"},
                   "access_mask": {"hex": "0x00000003", "READ_DATA": True, "WRITE_DATA": True,
                                   "APPEND_DATA": False, "READ_EA": False, "WRITE_EA": False,
                                   "EXECUTE": False, "READ_ATTRIBUTES": False,
                                   "WRITE_ATTRIBUTES": False, "DELETE_CHILD": False,
                                   "DELETE": False, "READ_CONTROL": False, "WRITE_DAC": False,
                                   "SYNCHRONIZE": False, "ACCESS_SYSTEM_SECURITY": False,
                                   "text": "RW"},
                   "caching": {"READ": False, "WRITE": False, "HANDLE": False, "hex": "0x00000000", "text": ""},
                   "oplock": {}, "lease": {},
                   "opened_at": "2026-11-24T11:00:00.000000+00:00"}}}
        w(("," if i else "") + "\n" + json.dumps(path + "/" + fname) + ": " + json.dumps(rec))
    w('\n}\n}\n}\n')


if __name__ == "__main__":
    main()
