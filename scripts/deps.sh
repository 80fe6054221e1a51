#!/usr/bin/env bash
# Installs what building and testing smbcim needs, from Debian packages:
# Debian 12 (bookworm), 13 (trixie) or testing/unstable (sid), read from
# /etc/os-release; SMBCIM_DEBIAN=bookworm|trixie|sid overrides that (for a
# derivative).  Idempotent: does nothing when everything is already there.
# (bench/server.py installs its own extras, wrk and nginx-light, when run.)
set -eu
PKGS="build-essential pkg-config libcmocka-dev clang llvm python3 valgrind \
      libtdb-dev samba-dev samba smbclient tdb-tools python3-tdb python3-impacket \
      libexpat1-dev libmicrohttpd-dev libcurl4-gnutls-dev libpam0g-dev libgnutls28-dev sblim-wbemcli openssl \
      dpkg-dev debhelper fakeroot lintian \
      prometheus python3-winrm ctdb iproute2"
# prometheus (with promtool) is for the tests only: tests/e2e/run_metrics_e2e.py
# scrapes smbcimd with the real Prometheus and checks contrib/prometheus/;
# smbcim does not need it to run.  (Its screenshot mode, for
# docs/monitoring-graph.png, also wants chromium, installed by hand.)  On a
# host with systemd the package also enables its own prometheus.service
# (port 9090); the test starts a private one on a free port either way.
# ctdb and iproute2 are for tests/e2e/run_ctdb_e2e.py only (a CTDB cluster
# of private ctdbd processes in a network namespace; the package's own
# ctdb.service is enabled but not started on install, and unconfigured).
# python3-winrm is the independent WS-Management client of
# tests/e2e/run_wsman_e2e.py (tests only, too).

osrel() { # osrel KEY: its value in os-release, unquoted
    local f=/etc/os-release
    [ -r "$f" ] || f=/usr/lib/os-release
    sed -n "s/^$1=//p" "$f" 2>/dev/null | head -n 1 | tr -d "\"'"
}
release=${SMBCIM_DEBIAN:-}
if [ -z "$release" ] && [ "$(osrel ID)" = debian ]; then
    case "$(osrel VERSION_CODENAME)/$(osrel VERSION_ID)" in
    bookworm/* | */12) release=bookworm ;;
    trixie/* | */13) release=trixie ;;
    # testing and unstable have no VERSION_ID (their codename is the next
    # release's, e.g. forky)
    */) release=sid ;;
    esac
fi
# The sanitizer and libFuzzer runtimes of the release's default clang, and
# systemd.pc for debian/rules (in systemd up to bookworm, systemd-dev after).
case "$release" in
bookworm) PKGS="$PKGS libclang-rt-14-dev systemd" ;;     # clang 14
trixie) PKGS="$PKGS libclang-rt-19-dev systemd-dev" ;;   # clang 19
sid) PKGS="$PKGS libclang-rt-dev systemd-dev" ;;         # follows clang's version there
*)
    echo "smbcim: deps.sh knows Debian 12 (bookworm), 13 (trixie) and sid, not" \
        "'$(osrel PRETTY_NAME)'; set SMBCIM_DEBIAN to the nearest of them" >&2
    exit 1
    ;;
esac

missing=()
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "smbcim: need root to install: ${missing[*]}" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
