# demo/lib.sh - shell helpers that run a throwaway Samba smbd on 127.0.0.1.
#
# Sourced by demo/run.sh and tests/e2e/run_e2e.py (through bash).  Nothing
# here touches /etc/samba/smb.conf, port 445 or processes it did not start:
#
#   smbcim_demo_deps            install samba, smbclient, python3-impacket if missing
#   smbcim_demo_lock            serialise runs (demo and e2e share the Unix users)
#   smbcim_demo_setup           temp dir, private smb.conf, Unix + tdbsam users
#   smbcim_demo_start           start smbd in the background, wait for its port
#   smbcim_demo_track PID       remember a client process to stop at cleanup
#   smbcim_demo_cleanup         stop by PID what was started, delete created
#                               users, remove the temp dir (call from a trap)
#
#   smbcim_demo_in CMD...       run CMD where smbd runs (the chroot, or here)
#
# After smbcim_demo_setup / _start these variables are set:
#   SMBCIM_DEMO_DIR   the temp dir            SMBCIM_DEMO_CONF  its smb.conf
#   SMBCIM_DEMO_HOSTDIR  the temp dir as the host sees it (= SMBCIM_DEMO_DIR
#                     without a chroot)       SMBCIM_DEMO_ROOT  the chroot's root
#   SMBCIM_DEMO_PORT  the TCP port smbd uses  SMBCIM_DEMO_PID   smbd's pid
#   SMBCIM_DEMO_USERS "smbcim_alice smbcim_bob"   SMBCIM_DEMO_PASSWORD
#   SMBCIM_DEMO_PYTHON  Debian's python3 (the one python3-impacket is for)
#
# Settings (environment): SMBCIM_DEMO_PORT (default: a free port picked by
# the kernel), SMBCIM_DEMO_KEEP=1 (keep the temp dir for inspection),
# SMBCIM_CHROOT=trixie|sid: run Samba (smbd, testparm, smbpasswd, the users)
# inside that chroot of scripts/chroot.sh instead of the host's.  The temp
# dir is then under the chroot's /tmp; SMBCIM_DEMO_DIR and SMBCIM_DEMO_CONF
# are the paths inside the chroot (what smbd sees), SMBCIM_DEMO_HOSTDIR the
# same dir from the host.  smbd listens on 127.0.0.1 as on the host (the
# chroot shares the network), so clients run on the host.

SMBCIM_DEMO_USERS="${SMBCIM_DEMO_USERS:-smbcim_alice smbcim_bob}"
SMBCIM_DEMO_PASSWORD="${SMBCIM_DEMO_PASSWORD:-Demo-Pass-1}"
# python3-impacket is installed for Debian's interpreter; a python3 earlier
# in PATH (pyenv, venv) would not see it.
SMBCIM_DEMO_PYTHON="${SMBCIM_DEMO_PYTHON:-/usr/bin/python3}"
# useradd -c marker: a user with it was created by these helpers.
SMBCIM_DEMO_GECOS="smbcim demo temporary user"
SMBCIM_DEMO_DIR=""
SMBCIM_DEMO_HOSTDIR=""
SMBCIM_DEMO_CONF=""
SMBCIM_CHROOT="${SMBCIM_CHROOT:-}"
SMBCIM_DEMO_ROOT=""
SMBCIM_DEMO_LIBDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SMBCIM_DEMO_PID=""
SMBCIM_DEMO_CREATED_USERS=""
SMBCIM_DEMO_CLIENT_PIDS=""

smbcim_demo_log() { printf 'demo: %s\n' "$*" >&2; }
smbcim_demo_die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# The chroot of SMBCIM_CHROOT: its root dir, /proc and /dev mounted
# (scripts/chroot.sh run does that).  Nothing without SMBCIM_CHROOT.
smbcim_demo_chroot_init() {
    [ -n "$SMBCIM_CHROOT" ] || return 0
    [ -n "$SMBCIM_DEMO_ROOT" ] && return 0
    local cs="$SMBCIM_DEMO_LIBDIR/../scripts/chroot.sh"
    case "$SMBCIM_CHROOT" in trixie|sid) ;; *)
        smbcim_demo_die "SMBCIM_CHROOT=$SMBCIM_CHROOT: not a chroot of scripts/chroot.sh (trixie, sid)";;
    esac
    bash "$cs" run "$SMBCIM_CHROOT" true \
        || smbcim_demo_die "chroot $SMBCIM_CHROOT unusable (bash scripts/chroot.sh setup $SMBCIM_CHROOT)"
    SMBCIM_DEMO_ROOT="$(bash "$cs" path "$SMBCIM_CHROOT")"
    export SMBCIM_CHROOT SMBCIM_DEMO_ROOT
}

# Runs a command where smbd runs: inside the chroot, or here.
smbcim_demo_in() {
    if [ -n "$SMBCIM_CHROOT" ]; then
        smbcim_demo_chroot_init
        chroot "$SMBCIM_DEMO_ROOT" "$@"
    else
        "$@"
    fi
}

# (a) packages ------------------------------------------------------------
smbcim_demo_deps() {
    local p missing=() want="samba smbclient python3-impacket"
    # With a chroot, Samba is the chroot's (made by scripts/chroot.sh setup);
    # the host only runs the clients.
    [ -n "$SMBCIM_CHROOT" ] && want="python3-impacket"
    for p in $want; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        [ "$(id -u)" -eq 0 ] || smbcim_demo_die "need root to install: ${missing[*]}"
        smbcim_demo_log "installing ${missing[*]} (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null || smbcim_demo_die "apt-get update failed"
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || smbcim_demo_die "apt-get install ${missing[*]} failed"
    fi
    [ -x "$SMBCIM_DEMO_PYTHON" ] || smbcim_demo_die "$SMBCIM_DEMO_PYTHON not found"
    "$SMBCIM_DEMO_PYTHON" -c 'import impacket.smbconnection' 2>/dev/null \
        || smbcim_demo_die "$SMBCIM_DEMO_PYTHON cannot import impacket (python3-impacket)"
    if [ -n "$SMBCIM_CHROOT" ]; then
        smbcim_demo_chroot_init
        smbcim_demo_in smbd --version >/dev/null 2>&1 \
            || smbcim_demo_die "smbd not found in the chroot $SMBCIM_CHROOT"
        return 0
    fi
    command -v smbd >/dev/null || [ -x /usr/sbin/smbd ] || smbcim_demo_die "smbd not found"
    # The Debian package starts the system smbd when systemd runs; that one
    # listens on 445 and is left alone.
}

# Serialise runs: the demo and the e2e test create the same Unix users and
# delete them afterwards, so two runs at once would pull the users from
# under each other.  The lock is released when the shell exits.  A chroot
# has its own /etc/passwd, so runs in it take that chroot's own lock.
smbcim_demo_lock() {
    local name=smbcim-demo lock
    [ -n "$SMBCIM_CHROOT" ] && name="smbcim-demo.$SMBCIM_CHROOT"
    lock=/run/lock/$name.lock
    [ -d /run/lock ] || lock=/tmp/$name.lock
    exec 9>"$lock"
    if ! flock -n 9; then
        smbcim_demo_log "another demo/e2e run holds $lock; waiting (at most 180 s)"
        flock -w 180 9 || smbcim_demo_die "timed out waiting for $lock"
    fi
}

# A TCP port on 127.0.0.1 that nobody listens on.
smbcim_demo_free_port() {
    "$SMBCIM_DEMO_PYTHON" - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

# (b) temp dir, smb.conf, users ------------------------------------------
smbcim_demo_setup() {
    [ "$(id -u)" -eq 0 ] || smbcim_demo_die "must run as root (smbd and smbstatus need it)"
    smbcim_demo_chroot_init
    # $h: the dir as seen from here; $d: as smbd sees it (in the chroot).
    local h
    h="$(mktemp -d "$SMBCIM_DEMO_ROOT/tmp/smbcim-demo.XXXXXX")"
    SMBCIM_DEMO_HOSTDIR="$h"
    SMBCIM_DEMO_DIR="${h#"$SMBCIM_DEMO_ROOT"}"
    chmod 755 "$h"
    local d="$SMBCIM_DEMO_DIR"
    SMBCIM_DEMO_CONF="$d/smb.conf"
    SMBCIM_DEMO_PORT="${SMBCIM_DEMO_PORT:-$(smbcim_demo_free_port)}"
    mkdir -p "$h"/{private,lock,state,cache,pid,ncalrpc,log,home} \
             "$h/shares/projects" "$h/shares/finance" "$h/shares/backup"
    chmod 700 "$h/private"
    chmod 1777 "$h/shares/projects" "$h/shares/finance" "$h/shares/backup"
    printf 'Q3 plan\n' > "$h/shares/projects/plan.txt"
    printf 'budget\n'  > "$h/shares/finance/budget.xlsx"
    chmod 666 "$h/shares/projects/plan.txt" "$h/shares/finance/budget.xlsx"

    cat > "$h/smb.conf" <<EOF
# Throwaway smbd for the smbcim demo / e2e test.  Generated by demo/lib.sh.
[global]
    server role = standalone
    server string = smbcim demo server
    netbios name = SMBCIMDEMO
    workgroup = SMBCIMDEMO
    smb ports = $SMBCIM_DEMO_PORT
    interfaces = lo 127.0.0.1
    bind interfaces only = yes
    disable netbios = yes
    private dir = $d/private
    lock directory = $d/lock
    state directory = $d/state
    cache directory = $d/cache
    pid directory = $d/pid
    ncalrpc dir = $d/ncalrpc
    log file = $d/log/log.%m
    max log size = 1000
    log level = 1
    passdb backend = tdbsam:$d/private/passdb.tdb
    load printers = no
    printcap name = /dev/null
    printing = bsd
    disable spoolss = yes
    map to guest = never
    usershare max shares = 0

[Projects]
    path = $d/shares/projects
    comment = Team projects
    read only = no

[Finance Data]
    path = $d/shares/finance
    comment = Finance (at most 10 connections)
    read only = no
    max connections = 10

[backup\$]
    path = $d/shares/backup
    comment = Backups (hidden)
    read only = no

[homes]
    path = $d/home/%U
    comment = Home directories
    read only = no
    browseable = no
EOF
    smbcim_demo_in testparm -s "$SMBCIM_DEMO_CONF" >/dev/null 2>"$h/testparm.err" \
        || { cat "$h/testparm.err" >&2; smbcim_demo_die "testparm rejected $SMBCIM_DEMO_CONF"; }

    local u
    for u in $SMBCIM_DEMO_USERS; do
        if ! smbcim_demo_in getent passwd "$u" >/dev/null; then
            smbcim_demo_in useradd -M -s /usr/sbin/nologin -c "$SMBCIM_DEMO_GECOS" \
                -d "$d/home/$u" "$u" || smbcim_demo_die "useradd $u failed"
            SMBCIM_DEMO_CREATED_USERS="$SMBCIM_DEMO_CREATED_USERS $u"
        elif [ "$(smbcim_demo_in getent passwd "$u" | cut -d: -f5)" = "$SMBCIM_DEMO_GECOS" ]; then
            # Left over by a run that was killed before its cleanup: ours.
            SMBCIM_DEMO_CREATED_USERS="$SMBCIM_DEMO_CREATED_USERS $u"
        fi
        mkdir -p "$h/home/$u"
        smbcim_demo_in chown "$u" "$d/home/$u"
        printf '%s\n%s\n' "$SMBCIM_DEMO_PASSWORD" "$SMBCIM_DEMO_PASSWORD" \
            | smbcim_demo_in smbpasswd -c "$SMBCIM_DEMO_CONF" -a -s "$u" >/dev/null \
                2>>"$h/log/smbpasswd.err" \
            || smbcim_demo_die "smbpasswd -a $u failed"
    done
    export SMBCIM_DEMO_DIR SMBCIM_DEMO_HOSTDIR SMBCIM_DEMO_CONF SMBCIM_DEMO_PORT \
           SMBCIM_DEMO_USERS SMBCIM_DEMO_PASSWORD SMBCIM_DEMO_PYTHON
}

# (c) smbd ----------------------------------------------------------------
smbcim_demo_port_open() {
    timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

smbcim_demo_start() {
    [ -n "$SMBCIM_DEMO_CONF" ] || smbcim_demo_die "smbcim_demo_setup first"
    if smbcim_demo_port_open "$SMBCIM_DEMO_PORT"; then
        smbcim_demo_die "port $SMBCIM_DEMO_PORT on 127.0.0.1 is already in use"
    fi
    local smbd
    # Without --no-process-group smbd calls setsid(): it and every child it
    # forks (one per client, notifyd, cleanupd) are in process group $!,
    # which cleanup signals.  fd 9 (the run lock) is not passed on.  In a
    # chroot, chroot(1) execs smbd: $! is smbd itself there too.
    if [ -n "$SMBCIM_CHROOT" ]; then
        chroot "$SMBCIM_DEMO_ROOT" /usr/sbin/smbd --foreground -s "$SMBCIM_DEMO_CONF" \
            </dev/null >>"$SMBCIM_DEMO_HOSTDIR/log/smbd.stdout" 2>&1 9>&- &
    else
        smbd="$(command -v smbd || echo /usr/sbin/smbd)"
        "$smbd" --foreground -s "$SMBCIM_DEMO_CONF" \
            </dev/null >>"$SMBCIM_DEMO_DIR/log/smbd.stdout" 2>&1 9>&- &
    fi
    SMBCIM_DEMO_PID=$!
    export SMBCIM_DEMO_PID
    local i
    for i in $(seq 1 100); do            # at most ~15 s
        if ! kill -0 "$SMBCIM_DEMO_PID" 2>/dev/null; then
            smbcim_demo_log "smbd exited during start-up; log tail:"
            smbcim_demo_log_tail
            SMBCIM_DEMO_PID=""
            smbcim_demo_die "smbd did not start"
        fi
        if smbcim_demo_port_open "$SMBCIM_DEMO_PORT"; then
            smbcim_demo_log "smbd pid $SMBCIM_DEMO_PID listening on 127.0.0.1:$SMBCIM_DEMO_PORT${SMBCIM_CHROOT:+ (chroot $SMBCIM_CHROOT)}"
            return 0
        fi
        sleep 0.1
    done
    smbcim_demo_log "smbd not accepting connections after 15 s; log tail:"
    smbcim_demo_log_tail
    smbcim_demo_die "smbd did not open port $SMBCIM_DEMO_PORT"
}

smbcim_demo_log_tail() {
    local f
    for f in "${SMBCIM_DEMO_HOSTDIR:-$SMBCIM_DEMO_DIR}"/log/*; do
        [ -s "$f" ] || continue
        printf -- '--- %s\n' "$f" >&2
        tail -n 20 "$f" >&2
    done
}

smbcim_demo_track() {
    SMBCIM_DEMO_CLIENT_PIDS="$SMBCIM_DEMO_CLIENT_PIDS $1"
}

# (d) cleanup -------------------------------------------------------------
# Sends TERM, waits at most ~5 s, then KILL.  $1 = pid, $2 = "group" to
# signal the process group led by that pid (only smbd's own group).
smbcim_demo_stop_pid() {
    local pid="$1" group="${2:-}" target i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    target="$pid"
    if [ "$group" = group ] && [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
        target="-$pid"
    fi
    kill -TERM -- "$target" 2>/dev/null || true
    for i in $(seq 1 50); do
        if [ "$target" = "-$pid" ]; then
            pgrep -g "$pid" >/dev/null 2>&1 || return 0
        else
            kill -0 "$pid" 2>/dev/null || return 0
        fi
        sleep 0.1
    done
    kill -KILL -- "$target" 2>/dev/null || true
}

smbcim_demo_cleanup() {
    local rc=$? p u
    set +e
    for p in $SMBCIM_DEMO_CLIENT_PIDS; do
        smbcim_demo_stop_pid "$p"
    done
    SMBCIM_DEMO_CLIENT_PIDS=""
    if [ -n "$SMBCIM_DEMO_PID" ]; then
        smbcim_demo_stop_pid "$SMBCIM_DEMO_PID" group
        wait "$SMBCIM_DEMO_PID" 2>/dev/null
        SMBCIM_DEMO_PID=""
    fi
    for u in $SMBCIM_DEMO_CREATED_USERS; do
        smbcim_demo_in userdel "$u" >/dev/null 2>&1 || smbcim_demo_log "warning: userdel $u failed"
    done
    SMBCIM_DEMO_CREATED_USERS=""
    local h="${SMBCIM_DEMO_HOSTDIR:-$SMBCIM_DEMO_DIR}"
    if [ -n "$h" ] && [ -d "$h" ]; then
        if [ "${SMBCIM_DEMO_KEEP:-0}" = 1 ]; then
            smbcim_demo_log "kept $h"
        else
            rm -rf -- "$h"
        fi
    fi
    SMBCIM_DEMO_DIR=""
    SMBCIM_DEMO_HOSTDIR=""
    return $rc
}
