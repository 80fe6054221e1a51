#!/usr/bin/env bash
# Captures real smbd records as unit-test fixtures.
#
#   tools/capture-records.sh SUITE OUTDIR     (as root)
#
# SUITE is a chroot of scripts/chroot.sh (trixie, sid) or "host" (this
# machine's Samba).  Starts a private smbd on 127.0.0.1, connects real
# impacket clients from the host (two users; files held open, one with
# WRITE_OWNER, one with delete-on-close set), then writes every record of
# smbXsrv_session_global.tdb, smbXsrv_tcon_global.tdb and locking.tdb as
# OUTDIR/{session,tcon,locking}-<id>.hex, and OUTDIR/expected.txt: the values
# that release's own ndrdump (samba-testsuite) reads from each record
# (tools/ndr-expect.py).
# Stops and removes everything it started or created.
set -eu
[ $# -eq 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
suite=$1; out=$2
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"; out=$(cd "$out" && pwd)
if [ "$suite" = host ]; then root=""; run() { "$@"; }
else
    bash "$here/scripts/chroot.sh" setup "$suite" >/dev/null
    root=$(bash "$here/scripts/chroot.sh" path "$suite")
    run() { bash "$here/scripts/chroot.sh" run "$suite" "$@"; }
fi
d=$(mktemp -d "$root/tmp/smbcim-capture.XXXXXX"); rel=${d#"$root"}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
users="smbcap_a smbcap_b"; pw=Cap-Pass-1
smbd_pid=""; holder_pid=""
# kill -0 is true for a zombie: look at the process state instead.
alive() { local st; st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ]; }
cleanup() {
    local p
    for p in $holder_pid $smbd_pid; do
        kill "$p" 2>/dev/null || continue
        for _ in $(seq 50); do alive "$p" || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    for u in $users; do run userdel "$u" >/dev/null 2>&1 || true; done
    rm -rf "$d"
}
trap cleanup EXIT
chmod 755 "$d"
mkdir -p "$d"/{private,lock,state,cache,pid,ncalrpc,log} "$d/s1" "$d/s2"
chmod 1777 "$d/s1" "$d/s2"
cat >"$d/smb.conf" <<CONF
[global]
    server role = standalone
    netbios name = CAPTURE
    smb ports = $port
    interfaces = lo 127.0.0.1
    bind interfaces only = yes
    disable netbios = yes
    private dir = $rel/private
    lock directory = $rel/lock
    state directory = $rel/state
    cache directory = $rel/cache
    pid directory = $rel/pid
    ncalrpc dir = $rel/ncalrpc
    log file = $rel/log/log.%m
    passdb backend = tdbsam:$rel/private/passdb.tdb
    load printers = no
    printcap name = /dev/null
    disable spoolss = yes
[one]
    path = $rel/s1
    read only = no
[two]
    path = $rel/s2
    read only = no
CONF
for u in $users; do
    run useradd -M -s /usr/sbin/nologin "$u" 2>/dev/null || true
    printf '%s\n%s\n' "$pw" "$pw" | run smbpasswd -c "$rel/smb.conf" -s -a "$u" >/dev/null
done
# Started directly (not through the function) so that $! is smbd itself,
# in a process group of its own (smbd signals its whole group on exit):
# chroot.sh and chroot exec.
if [ -z "$root" ]; then setsid smbd --foreground --no-process-group -s "$rel/smb.conf" </dev/null >"$d/log/smbd.out" 2>&1 &
else setsid bash "$here/scripts/chroot.sh" run "$suite" smbd --foreground --no-process-group -s "$rel/smb.conf" </dev/null >"$d/log/smbd.out" 2>&1 &
fi
smbd_pid=$!
for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2>/dev/null && break
    sleep 0.1
done
fifo="$d/ready"; mkfifo "$fifo"
/usr/bin/python3 - "$port" "$pw" >"$fifo" <<'PY' &
import sys, time
from impacket.smbconnection import SMBConnection
from impacket.smb3structs import FILE_READ_DATA, FILE_WRITE_DATA, FILE_SHARE_READ, FILE_SHARE_WRITE, FILE_SHARE_DELETE, FILE_OPEN_IF, FILE_NON_DIRECTORY_FILE
port, pw = int(sys.argv[1]), sys.argv[2]
share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE
held = []
a = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=port); a.login("smbcap_a", pw)
t1 = a.connectTree("one"); t2 = a.connectTree("two")
held.append(a.createFile(t1, "plain.txt", desiredAccess=FILE_READ_DATA | FILE_WRITE_DATA, shareMode=share, creationDisposition=FILE_OPEN_IF, creationOption=FILE_NON_DIRECTORY_FILE))
held.append(a.createFile(t1, "owner.txt", desiredAccess=0x1F01FF, shareMode=share, creationDisposition=FILE_OPEN_IF, creationOption=FILE_NON_DIRECTORY_FILE))
# delete pending: FileDispositionInformation (13) = 1 puts a delete token in the record
f = a.createFile(t2, "doomed.txt", desiredAccess=0x10000 | FILE_READ_DATA | FILE_WRITE_DATA, shareMode=share, creationDisposition=FILE_OPEN_IF, creationOption=FILE_NON_DIRECTORY_FILE)
a.getSMBServer().setInfo(t2, f, inputBlob=b"\x01", infoType=1, fileInfoClass=13)
b = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=port); b.login("smbcap_b", pw)
tb = b.connectTree("two"); b.connectTree("IPC$")
held.append(b.createFile(tb, "b.txt", desiredAccess=FILE_READ_DATA, shareMode=share, creationDisposition=FILE_OPEN_IF, creationOption=FILE_NON_DIRECTORY_FILE))
print("ready", flush=True)
time.sleep(120)
PY
holder_pid=$!
read -r line <"$fifo"
[ "$line" = ready ] || { echo "capture: clients failed" >&2; exit 1; }
sleep 0.5
run /usr/bin/python3 - "$rel/lock" <<'PY' >"$d/dump.txt"
import os, sys, tdb
lock = sys.argv[1]
for db, prefix in (("smbXsrv_session_global.tdb", "session"), ("smbXsrv_tcon_global.tdb", "tcon"), ("locking.tdb", "locking")):
    t = tdb.Tdb(os.path.join(lock, db), 0, tdb.DEFAULT, os.O_RDONLY)
    for k in t.keys():
        v = t.get(k)
        if prefix == "locking":
            name = int.from_bytes(k[8:16], "little")   # file_id: devid, inode, extid
        else:
            name = int.from_bytes(k, "big")
        print("%s-%d %s" % (prefix, name, v.hex()))
PY
n=0
while read -r name hex; do
    printf '%s\n' "$hex" | fold -w 64 >"$out/$name.hex"; n=$((n + 1))
done <"$d/dump.txt"
echo "capture: $n records from $(run smbd --version) into $out"
# What that release's own ndrdump reads from each record: the unit test's
# expected values.
case "$(run smbd --version)" in
*" 4.1"[5-9]*|*" 4.2"[0-2]*) esize=132 ;;
*) esize=128 ;;
esac
cp "$here/tools/ndr-expect.py" "$d/ndr-expect.py"
mkdir -p "$d/fx"; cp "$out"/*.hex "$d/fx/"
run /usr/bin/python3 "$rel/ndr-expect.py" "$rel/fx" "$esize" >"$out/expected.txt"
echo "capture: $(wc -l <"$out/expected.txt") records decoded by ndrdump into $out/expected.txt"
