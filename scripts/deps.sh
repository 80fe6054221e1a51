#!/usr/bin/env bash
# Installs what building and testing smbcim needs, from Debian 12 packages.
# Idempotent: does nothing when everything is already there.
# (bench/server.py installs its own extras, wrk and nginx-light, when run.)
set -eu
PKGS="build-essential pkg-config libcmocka-dev clang llvm libclang-rt-14-dev python3 valgrind \
      libtdb-dev samba-dev samba smbclient tdb-tools python3-tdb python3-impacket \
      libexpat1-dev libmicrohttpd-dev libpam0g-dev libgnutls28-dev sblim-wbemcli openssl"
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
