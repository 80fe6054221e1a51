#!/usr/bin/env bash
# demo/run.sh - builds smbcim, starts a throwaway Samba smbd on 127.0.0.1
# (private smb.conf, free port, temp dir), opens real SMB connections that
# stay open, takes a snapshot of the server's state and asks smbcim who is
# connected to what.  Everything it started is stopped and removed on exit.
#
#   bash demo/run.sh          (as root, on Debian 12; see docs/demo.md)
#
# Environment: SMBCIM_DEMO_PORT=N (port to use; default: a free one),
# SMBCIM_DEMO_SNAPSHOT=FILE (keep a copy of the snapshot there),
# SMBCIM_DEMO_SKIP_BUILD=1 (do not run scripts/deps.sh and make),
# SMBCIM_DEMO_KEEP=1 (keep the temp dir), SMBCIM=PATH (the smbcim binary to run).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
START_NS=$(date +%s%N)

die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages, starts smbd, creates users)"

# 1. Build ---------------------------------------------------------------
if [ "${SMBCIM_DEMO_SKIP_BUILD:-0}" != 1 ]; then
    echo "demo: installing build dependencies (scripts/deps.sh)" >&2
    bash scripts/deps.sh || die "scripts/deps.sh failed"
    echo "demo: building (make)" >&2
    buildlog="$(mktemp /tmp/smbcim-demo-make.XXXXXX)"
    if ! make -j"$(nproc)" >"$buildlog" 2>&1; then
        tail -n 30 "$buildlog" >&2
        rm -f "$buildlog"
        die "make failed (last lines above)"
    fi
    rm -f "$buildlog"
fi
SMBCIM="${SMBCIM:-$ROOT/build/smbcim}"
[ -x "$SMBCIM" ] || die "$SMBCIM is missing; run make"

# 2. Throwaway smbd --------------------------------------------------------
# shellcheck source=demo/lib.sh
. "$ROOT/demo/lib.sh"
trap smbcim_demo_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
smbcim_demo_deps
smbcim_demo_lock
smbcim_demo_setup
smbcim_demo_start
D="$SMBCIM_DEMO_DIR"
PORT="$SMBCIM_DEMO_PORT"
PW="$SMBCIM_DEMO_PASSWORD"

# 3. Clients that stay connected ---------------------------------------------
# One python3-impacket process holds three SMB connections (each its own
# TCP connection, smbd child and session):
#   alice #1: Projects (2 files open) and Finance Data: two tree connects in one session
#   alice #2: Projects again, 1 file open -> merges with alice #1's Projects connection
#   bob:      Finance Data (1 file open) and IPC$
# plus one smbclient session (bob -> backup$).
cat > "$D/plan.json" <<EOF
{"host": "127.0.0.1", "port": $PORT, "password": "$PW", "max_hold": 120,
 "connections": [
  {"name": "alice-1", "user": "smbcim_alice",
   "trees": [{"share": "Projects", "files": ["plan.txt", "notes.txt"]},
             {"share": "Finance Data"}]},
  {"name": "alice-2", "user": "smbcim_alice",
   "trees": [{"share": "Projects", "files": [{"name": "roadmap.txt", "access": 2032127}]}]},
  {"name": "bob", "user": "smbcim_bob",
   "trees": [{"share": "Finance Data", "files": ["budget.xlsx"]},
             {"share": "IPC\$"}]}
 ]}
EOF
mkfifo "$D/holder.in" "$D/smbclient.in"
"$SMBCIM_DEMO_PYTHON" "$ROOT/tests/e2e/smb_holder.py" "$D/plan.json" \
    <"$D/holder.in" >"$D/holder.out" 2>"$D/holder.err" 9>&- &
smbcim_demo_track $!
exec 7>"$D/holder.in"          # the holder runs until this is closed
smbclient "//127.0.0.1/backup\$" -p "$PORT" -U "smbcim_bob%$PW" \
    <"$D/smbclient.in" >"$D/smbclient.out" 2>&1 7>&- 9>&- &
smbcim_demo_track $!
exec 6>"$D/smbclient.in"

ready=""
for _ in $(seq 1 300); do      # at most ~30 s
    if [ -s "$D/holder.out" ]; then ready="$(head -n 1 "$D/holder.out")"; break; fi
    sleep 0.1
done
case "$ready" in
    *'"ready": true'*) ;;
    "") cat "$D/holder.err" >&2; die "the SMB clients did not connect within 30 s" ;;
    *)  cat "$D/holder.err" >&2; die "SMB client set-up failed: $ready" ;;
esac
ok=""
for _ in $(seq 1 100); do      # smbclient's tree connect, at most ~10 s
    tc="$(smbstatus -s "$SMBCIM_DEMO_CONF" -S 2>/dev/null || true)"
    if grep -q '^backup\$ ' <<<"$tc"; then ok=1; break; fi
    sleep 0.1
done
[ -n "$ok" ] || { cat "$D/smbclient.out" >&2; die "smbclient did not connect to backup\$"; }

# 4. Ask smbcim, live ------------------------------------------------------
# smbcim reads smbd's own databases while the clients are connected.
run_smbcim() {
    local a line="smbcim --smb-conf smb.conf"
    for a in "$@"; do
        case "$a" in *[\ \"\'{}\$]*) line="$line '$a'" ;; *) line="$line $a" ;; esac
    done
    printf '\n$ %s\n' "$line"
    "$SMBCIM" --smb-conf "$SMBCIM_DEMO_CONF" "$@" || die "smbcim $* failed"
}
cat <<EOF

=== smbcim demo: Samba $(smbd --version | sed 's/^Version //') on 127.0.0.1:$PORT ===
Connected now: smbcim_alice (2 sessions; Projects twice, Finance Data; 3 files open,
one of them with FILE_ALL_ACCESS), smbcim_bob (Finance Data with 1 file open, IPC\$;
smbclient on the hidden share backup\$).
smbcim reads the live state from smbd's databases in $SMBCIM_DEMO_DIR/lock.
EOF
run_smbcim query "SELECT * FROM Win32_ConnectionShare"
run_smbcim query 'ASSOCIATORS OF {Win32_Share.Name="Projects"} WHERE AssocClass=Win32_ConnectionShare'
run_smbcim --format table query "SELECT ComputerName, ShareName, UserName, NumberOfFiles, NumberOfUsers, ActiveTime FROM Win32_ServerConnection"
run_smbcim --format table query "SELECT ComputerName, UserName, ResourcesOpened, ActiveTime FROM Win32_ServerSession"

# 5. The same state as a snapshot --------------------------------------------
SNAP="$D/snapshot.json"
"$SMBCIM" --smb-conf "$SMBCIM_DEMO_CONF" snapshot >"$SNAP" || die "smbcim snapshot failed"
if [ -n "${SMBCIM_DEMO_SNAPSHOT:-}" ]; then
    cp "$SNAP" "$SMBCIM_DEMO_SNAPSHOT"
fi
exec 7>&- 6>&-   # the clients can go now; the snapshot holds the state
printf '\n$ smbcim --smb-conf smb.conf snapshot > snapshot.json   (then the clients disconnect)\n'
printf '$ smbcim --snapshot snapshot.json query "SELECT * FROM Win32_SessionConnection"\n'
"$SMBCIM" --snapshot "$SNAP" query "SELECT * FROM Win32_SessionConnection" \
    || die "smbcim --snapshot failed"

ms=$(( ($(date +%s%N) - START_NS) / 1000000 ))
printf '\ndemo: done in %d.%d s; cleaning up\n' $((ms / 1000)) $((ms % 1000 / 100))
