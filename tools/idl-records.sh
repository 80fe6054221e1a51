#!/usr/bin/env bash
# Builds smbd records with one Samba release's own pidl and NDR code.
#
#   tools/idl-records.sh [-g GITDIR] [-r CAPDIR] [-k] TAG|SRCDIR OUTDIR
#
# TAG is a tag of the Samba git repository GITDIR (default $SAMBA_GIT, else
# /work/.mirror/samba-team+samba/repo), e.g. samba-4.20.8; or SRCDIR is a
# Samba source checkout.  From that release's files only: runs its pidl
# (pidl/pidl --header --ndr-parser, as its waf build does) over its IDL
# (librpc/idl/*.idl, source3/librpc/idl/{smbXsrv,open_files}.idl), compiles
# the generated code with its NDR runtime (librpc/ndr/ndr.c, ndr_basic.c,
# ndr_string.c, ndr_misc.c, uuid.c, ndr_sec_helper.c, util.c,
# lib/util/data_blob.c) and tools/idl-records/records.c, and writes
# OUTDIR/{session,tcon,locking}-<id>.hex plus OUTDIR/expected.txt (the
# values put into the structs, in the format of tools/ndr-expect.py).
# The entry size and g_lock epochs come from the release's
# source3/locking/share_mode_lock.c and source3/lib/g_lock.c.
#
#   -r CAPDIR  also pull every record of CAPDIR (captured from that
#              release's smbd) with the release's code, push it again and
#              require the same bytes (checks the pipeline)
#   -k         keep the work directory (printed)
#
# Needs perl with Parse::Yapp (libparse-yapp-perl), python3, gcc,
# libtalloc-dev.  Lib/util functions the runtime calls are in
# tools/idl-records/compat.c; any other it refers to is linked to a stub
# that aborts, so an unexpected call cannot go unnoticed.
set -eu
usage() { sed -n '2,28p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
sup=$here/idl-records
git_dir=${SAMBA_GIT:-/work/.mirror/samba-team+samba/repo}
capdir=""; keep=0
while getopts g:r:k o; do
    case $o in
    g) git_dir=$OPTARG ;;
    r) capdir=$(cd "$OPTARG" && pwd) ;;
    k) keep=1 ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
what=$1; mkdir -p "$2"; out=$(cd "$2" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/idl-records.XXXXXX")
if [ $keep = 1 ]; then echo "work directory: $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
log=$work/log; : >"$log"
fail() { echo "idl-records: $*" >&2; tail -n 30 "$log" >&2; exit 1; }

# ---- the release's files ---------------------------------------------------
if [ -d "$what" ]; then
    src=$(cd "$what" && pwd)
else
    src=$work/src; mkdir -p "$src"
    git -C "$git_dir" rev-parse -q --verify "$what^{commit}" >/dev/null || fail "no tag $what in $git_dir"
    # (git archive may complain about unrelated objects the mirror lacks;
    # the files needed are checked below)
    git -C "$git_dir" archive "$what" VERSION pidl librpc source3/librpc \
        source3/locking/share_mode_lock.c source3/lib/g_lock.c lib/util lib/replace \
        libcli/util libcli/security source4/scripting/bin 2>>"$log" | tar -x -C "$src" || true
fi
for f in VERSION pidl/pidl librpc/ndr/ndr.c source3/librpc/idl/smbXsrv.idl \
         source3/locking/share_mode_lock.c source3/lib/g_lock.c lib/replace/replace.h; do
    [ -f "$src/$f" ] || fail "$f missing from the source"
done
ver=$(. "$src/VERSION" 2>/dev/null; echo "$SAMBA_VERSION_MAJOR.$SAMBA_VERSION_MINOR.$SAMBA_VERSION_RELEASE${SAMBA_VERSION_RC_RELEASE:+rc$SAMBA_VERSION_RC_RELEASE}${SAMBA_VERSION_PRE_RELEASE:+pre$SAMBA_VERSION_PRE_RELEASE}")
echo "idl-records: Samba $ver ($what)" >&2

# ---- generated error headers (libcli/util/wscript_build) ---------------------
gen=$work/gen
mkdir -p "$gen/libcli/util" "$gen/include/core" "$gen/librpc/gen_ndr"
# As libcli/util/wscript_build runs them: python3 SCRIPT TABLE TARGETS..
# (the headers into gen/libcli/util, the rest thrown away).
python3 - "$src/libcli/util" "$gen/libcli/util" "$work" >>"$log" 2>&1 <<'PY' || fail "generating the error headers failed"
import os, re, subprocess, sys
d, hdir, junk = sys.argv[1:]
w = open(os.path.join(d, "wscript_build")).read()
for m in re.finditer(r"SAMBA_GENERATOR\((.*?)\)\s*\n", w, re.S):
    body = m.group(1)
    src = re.search(r"source\s*=\s*'+([^']*)'", body).group(1).split()
    tgt = re.search(r"target\s*=\s*'+([^']*)'", body).group(1).split()
    if not src[0].endswith(".py"):
        continue
    outs = [os.path.join(hdir if t.endswith(".h") else junk, t) for t in tgt]
    subprocess.run([sys.executable, os.path.join(d, src[0]), src[1]] + outs, cwd=d, check=True)
PY
for h in ntstatus.h werror.h error.h doserr.h hresult.h; do
    [ -f "$src/libcli/util/$h" ] && ln -sf "$src/libcli/util/$h" "$gen/include/core/$h"
done
for h in ntstatus_gen.h werror_gen.h hresult.h; do
    [ -f "$gen/libcli/util/$h" ] && ln -sf "$gen/libcli/util/$h" "$gen/include/core/$h"
done

# ---- pidl ---------------------------------------------------------------------
pidl_out=$gen/librpc/gen_ndr
(cd "$src" && ls librpc/idl/*.idl | xargs -P "$(nproc)" -I{} \
    perl pidl/pidl --quiet --header --ndr-parser --outputdir "$pidl_out" -- {}) >>"$log" 2>&1 || true
for i in smbXsrv open_files; do
    (cd "$src" && perl pidl/pidl --quiet --includedir=librpc/idl --header --ndr-parser \
        --outputdir "$pidl_out" -- "source3/librpc/idl/$i.idl") >>"$log" 2>&1 || fail "pidl $i.idl failed"
done
ndr_gen="misc server_id security auth file_id smb2_lease_struct smbXsrv open_files"
for i in $ndr_gen; do
    [ -f "$pidl_out/ndr_$i.c" ] || fail "pidl did not generate ndr_$i.c"
done

# ---- what this release's records have ------------------------------------------
members() { awk -v s="struct $2 {" '$0 == s, /^}/' "$pidl_out/$1.h"; }
has() { members "$1" "$2" | grep -Eq "[ *]$3;"; }
defs=()
feature() { defs+=("-D$1"); feats="$feats $1"; }
feats=""
if grep -q 'struct smbXsrv_session_global \*info1;' "$pidl_out/smbXsrv.h"; then
    feature IDLR_SMBXSRV_V1; sess=smbXsrv_session_global; chan=smbXsrv_channel_global
else
    sess=smbXsrv_session_global0; chan=smbXsrv_channel_global0
fi
has auth auth_session_info ticket_type && feature IDLR_TICKET_TYPE
has auth auth_user_info user_flags && feature IDLR_USER_FLAGS
has smbXsrv "$sess" client_guid && feature IDLR_CLIENT_GUID
has smbXsrv "$chan" transport_type && feature IDLR_TRANSPORT_TYPE
has security security_token evaluate_claims && feature IDLR_TOKEN_CLAIMS
has open_files delete_token parent_lease_key && feature IDLR_PARENT_LEASE_KEY
has open_files delete_token open_persistent_id && feature IDLR_OPEN_PERSISTENT_ID
has open_files share_mode_data old_write_time && feature IDLR_WRITE_TIMES
has open_files share_mode_data num_persistent && feature IDLR_NUM_PERSISTENT
has open_files share_mode_entry private_options && feature IDLR_PRIVATE_OPTIONS
has open_files share_mode_entry create_guid && feature IDLR_CREATE_GUID
grep -q '^struct share_mode_dataB {' "$pidl_out/open_files.h" && feature IDLR_SHARE_MODE_DATAB
esize=$(grep -A1 'struct share_mode_entry_buf {' "$src/source3/locking/share_mode_lock.c" |
        sed -n 's/.*uint8_t buf\[\([0-9]*\)\];.*/\1/p')
[ -n "$esize" ] || fail "no share_mode_entry_buf size in share_mode_lock.c"
if grep -q 'seqnum_buf\[sizeof(uint64_t)\*2\]' "$src/source3/lib/g_lock.c"; then epochs=2
elif grep -q 'seqnum_buf\[sizeof(uint64_t)\]' "$src/source3/lib/g_lock.c"; then epochs=1
else fail "cannot tell the g_lock header from g_lock.c"; fi
defs+=("-DIDLR_ENTRY_SIZE=$esize" "-DIDLR_GLOCK_EPOCHS=$epochs")
echo "idl-records: features:${feats:- none}; share_mode_entry $esize bytes; g_lock epochs $epochs" >&2

# ---- compile and link ------------------------------------------------------------
inc=(-I"$sup" -I"$gen" -I"$gen/include" -I"$gen/librpc" -I"$gen/libcli/util" -I"$src"
     -I"$src/lib/replace" -I"$src/lib" -I"$src/source3" -I"$src/libcli/util")
cflags=(-O1 -g -w -std=gnu11 -D__STDC_WANT_LIB_EXT1__=1 -fno-common)
obj=$work/obj; mkdir -p "$obj"
srcs=()
for f in ndr.c ndr_basic.c ndr_string.c ndr_misc.c uuid.c ndr_sec_helper.c util.c; do
    [ -f "$src/librpc/ndr/$f" ] && srcs+=("$src/librpc/ndr/$f")
done
srcs+=("$src/lib/util/data_blob.c")
for i in $ndr_gen; do srcs+=("$pidl_out/ndr_$i.c"); done
objs=()
for f in "${srcs[@]}"; do
    o=$obj/$(echo "${f#"$work"/}" | tr / _).o
    gcc -c "${cflags[@]}" "${inc[@]}" -o "$o" "$f" >>"$log" 2>&1 || fail "compiling $f failed"
    objs+=("$o")
done
gcc -c "${cflags[@]}" "${defs[@]}" "${inc[@]}" -o "$obj/records.o" "$sup/records.c" >>"$log" 2>&1 ||
    fail "compiling records.c failed"
gcc -c -O1 -g -std=gnu11 -o "$obj/compat.o" "$sup/compat.c" >>"$log" 2>&1 || fail "compiling compat.c failed"
objs+=("$obj/records.o" "$obj/compat.o")
bin=$work/records
: >"$work/stubs.c"
gcc -o "$bin" "${objs[@]}" -ltalloc >"$work/link1" 2>&1 || true
{
    echo '#include <stdio.h>'
    echo '#include <stdlib.h>'
    echo 'static void stub(const char *f) { fprintf(stderr, "idl-records: %s called (not provided)\n", f); abort(); }'
    grep -o "undefined reference to \`[^']*'" "$work/link1" | sed "s/.*\`\(.*\)'/\1/" | sort -u |
        while read -r s; do echo "void $s(void) { stub(\"$s\"); }"; done
} >"$work/stubs.c"
gcc -c -O1 -o "$obj/stubs.o" "$work/stubs.c" >>"$log" 2>&1 || fail "compiling the stubs failed"
gcc -o "$bin" "${objs[@]}" "$obj/stubs.o" -ltalloc >>"$log" 2>&1 || fail "linking failed"
echo "idl-records: $(grep -c '^void ' "$work/stubs.c") functions stubbed" >&2

# ---- records ---------------------------------------------------------------------
rm -f "$out"/session-*.hex "$out"/tcon-*.hex "$out"/locking-*.hex
"$bin" build "$out" >"$work/expected" || fail "building the records failed"
LC_ALL=C sort "$work/expected" >"$out/expected.txt"
echo "idl-records: wrote $(wc -l <"$out/expected.txt") records to $out" >&2
# The release's pull code must read every record back, whole, and push the
# same bytes again.
for k in session tcon locking; do
    "$bin" repush "$k" "$out"/$k-*.hex >>"$log" 2>&1 || fail "a built $k record does not round-trip"
done
echo "idl-records: the release's pull code reads every record back (push again: same bytes)" >&2

if [ -n "$capdir" ]; then
    rc=0
    for k in session tcon locking; do
        set -- "$capdir"/$k-*.hex
        [ -e "$1" ] || continue
        "$bin" repush "$k" "$@" || rc=1
    done
    [ $rc = 0 ] || fail "captured records of $capdir do not re-push identically"
    echo "idl-records: every record of $capdir re-pushed identically" >&2
fi
