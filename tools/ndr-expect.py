#!/usr/bin/python3
"""Writes what a Samba release's own ndrdump reads from captured records.

    ndr-expect.py DIR ENTRY_SIZE > DIR/expected.txt

Run where that release's ndrdump is (inside its chroot, see
tools/capture-records.sh).  DIR holds {session,tcon,locking}-<id>.hex.  For
each record this strips the headers that are not NDR (dbwrap_watch, g_lock
with two epochs, the share-mode length), has ndrdump decode the rest with
the release's generated code, and prints one line of the values smbcim's
decoders must find (tab-separated: share names have spaces):

    session-<id>.hex session_id=.. pid=.. uid=.. unix_name=.. remote_address=..
        remote_name=.. dialect=.. creation=<unix seconds>
    tcon-<id>.hex tcon_id=.. session_id=.. pid=.. share_name=.. creation=..
    locking-<id>.hex service_path=.. base_name=.. inode=.. opens=pid/uid/access;..

The unit test tests/unit/test_samba_ndr.c compares its decoding of each
record with this file.
"""
import calendar
import os
import re
import subprocess
import sys
import tempfile
import time

d, entry_size = sys.argv[1], int(sys.argv[2])


def ndrdump(pipe, name, data):
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["ndrdump", pipe, name, "struct", f.name],
                           capture_output=True, text=True)
    if "pull returned Success" not in r.stdout:
        return None
    return r.stdout


def fields(text):
    """(name, value) pairs in order, from 'name : value' lines."""
    out = []
    for line in text.splitlines():
        m = re.match(r"^\s+(\w+)\s+: (.*)$", line)
        if m:
            out.append((m.group(1), m.group(2).strip()))
    return out


def first(fs, name):
    for k, v in fs:
        if k == name:
            return v
    return None


def num(v):
    m = re.search(r"\((-?\d+)\)$", v) or re.match(r"^(\d+)$", v)
    return int(m.group(1))


def string(fs, name):
    """The first quoted value of name (a pointer prints '*' first)."""
    for k, v in fs:
        m = re.match(r"^'(.*)'$", v)
        if k == name and m:
            return m.group(1)
    return None


def when(v):
    # "Sat Nov 28 06:35:59 2026 UTC" (ndrdump prints NTTIME in UTC)
    v = re.sub(r"\.\d+$", "", v)
    return calendar.timegm(time.strptime(v, "%a %b %d %H:%M:%S %Y UTC"))


def unwatch(b):
    n = int.from_bytes(b[:4], "little") & 0x7FFFFFFF
    return b[4 + 32 * n:]


for name in sorted(os.listdir(d)):
    if not name.endswith(".hex"):
        continue
    b = bytes.fromhex(open(os.path.join(d, name)).read().replace("\n", ""))
    if name.startswith("session"):
        t = ndrdump("smbXsrv", "smbXsrv_session_globalB", unwatch(b))
        if t is None:
            sys.exit("ndrdump cannot read " + name)
        fs = fields(t)
        print("%s\tsession_id=%d\tpid=%d\tuid=%d\tunix_name=%s\tremote_address=%s\tremote_name=%s"
              "\tdialect=%d\tcreation=%d" % (
                  name, num(first(fs, "session_global_id")), num(first(fs, "pid")),
                  num(first(fs, "uid")), string(fs, "unix_name"),
                  string(fs, "remote_address"), string(fs, "remote_name"),
                  num(first(fs, "connection_dialect")), when(first(fs, "creation_time"))))
    elif name.startswith("tcon"):
        t = ndrdump("smbXsrv", "smbXsrv_tcon_globalB", b)
        if t is None:
            sys.exit("ndrdump cannot read " + name)
        fs = fields(t)
        print("%s\ttcon_id=%d\tsession_id=%d\tpid=%d\tshare_name=%s\tcreation=%d" % (
            name, num(first(fs, "tcon_global_id")), num(first(fs, "session_global_id")),
            num(first(fs, "pid")), string(fs, "share_name"),
            when(first(fs, "creation_time"))))
    else:
        r = unwatch(b)
        o = 24 + 16
        nshared = int.from_bytes(r[o:o + 4], "little")
        o += 4 + 24 * nshared
        sl = int.from_bytes(r[o:o + 4], "little")
        o += 4
        t = ndrdump("open_files", "share_mode_dataB", r[o:o + sl]) or \
            ndrdump("open_files", "share_mode_data", r[o:o + sl])
        if t is None:
            sys.exit("ndrdump cannot read " + name)
        fs = fields(t)
        opens = []
        for at in range(o + sl, len(r), entry_size):
            e = ndrdump("open_files", "share_mode_entry", r[at:at + entry_size])
            if e is None:
                sys.exit("ndrdump cannot read an entry of " + name)
            ef = fields(e)
            opens.append("%d/%d/%d" % (num(first(ef, "pid")), num(first(ef, "uid")),
                                       num(first(ef, "access_mask"))))
        print("%s\tservice_path=%s\tbase_name=%s\tinode=%d\topens=%s" % (
            name, string(fs, "servicepath"), string(fs, "base_name"),
            num(first(fs, "inode")), ";".join(opens)))
