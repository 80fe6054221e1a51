#!/usr/bin/env python3
"""The library as a C programmer links it, from smbcim.h alone: exactly the
functions the header declares are exported (no more, no less), the file
name and SONAME carry the version, the version macros and
smbcim_version() agree, an application defining a function of the same
name as one of the library's internals (sc_xmalloc) does not take it over,
and smbcim.pc gives working flags.  Runs against $BUILD (default build/).
Ends with "N passed, N failed".
"""
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
HEADER = os.path.join(ROOT, "include", "smbcim.h")
FS01 = os.path.join(ROOT, "tests", "fixtures", "fs01.json")
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, **kw)


def declared():
    text = re.sub(r"/\*.*?\*/", "", open(HEADER).read(), flags=re.S)
    names = set(re.findall(r"\b((?:smbcim|cim)_\w+)\s*\(", text))
    pointers = set(re.findall(r"\(\s*\*\s*(\w+)\s*\)", text))
    return names - pointers


def version_macros():
    text = open(HEADER).read()
    return ".".join(re.search(r"#define SMBCIM_VERSION_%s (\d+)" % p, text).group(1)
                    for p in ("MAJOR", "MINOR", "PATCH"))


# The structs whose layout a program compiled against one version relies
# on (smbcim.h, "Structs and later versions"): size and the offset of each
# member, against tests/abi/layout.txt.  A change there breaks programs
# built against an earlier 0.x header: bump MAJOR, or put the new member in
# a reserved slot, then record the new layout (SMBCIM_ABI_RECORD=1).
LAYOUT = {
    "cim_value": ["type", "null", "array", "count", "v"],
    "smbcim_error": ["code", "msg"],
    "smbcim_sysprop": ["name", "value"],
    "smbcim_assoc_filter": ["assoc_class", "result_class", "role", "result_role", "keys_only",
                            "reserved"],
    "cim_qualifier_decl": ["name", "type", "array", "defval", "scope", "tosubclass",
                           "overridable", "translatable", "mof_file", "mof_line", "reserved"],
    "cim_qualifier": ["name", "value", "tosubclass", "overridable", "translatable", "decl",
                      "reserved"],
    "cim_property": ["name", "type", "array", "ref_class", "quals", "nquals", "origin",
                     "local", "key", "defval", "reserved"],
    "cim_parameter": ["name", "type", "array", "ref_class", "quals", "nquals", "reserved"],
    "cim_method_decl": ["name", "type", "params", "nparams", "quals", "nquals", "origin",
                        "local", "reserved"],
    # made by the library, handed out by pointer: members may be added at
    # the end only, so the offsets of these must not move
    "cim_class": ["name", "super_name", "super", "quals", "nquals", "props", "nprops",
                  "nkeys", "abstract", "association", "mof_file", "mof_line", "methods",
                  "nmethods"],
    "cim_instance": ["cls", "values", "present", "relpath", "path"],
    "smbcim_result": ["count", "instances", "classes", "is_classes", "select_props",
                      "nselect_props", "query_class"],
}
GROWS_AT_END = {"cim_class", "cim_instance", "smbcim_result"}


def layout_check(tmp):
    import platform
    src = os.path.join(tmp, "layout.c")
    with open(src, "w") as f:
        f.write("#include <stddef.h>\n#include <stdio.h>\n#include <smbcim.h>\nint main(void)\n{\n")
        for st, members in LAYOUT.items():
            f.write('    printf("%s size %%zu\\n", sizeof(%s));\n' % (st, st))
            for m in members:
                f.write('    printf("%s.%s %%zu\\n", offsetof(%s, %s));\n' % (st, m, st, m))
        f.write("    return 0;\n}\n")
    exe = os.path.join(tmp, "layout")
    p = run("cc", "-std=c11", "-I", os.path.join(ROOT, "include"), "-o", exe, src)
    check("the struct layout probe builds", p.returncode == 0, p.stderr)
    if p.returncode != 0:
        return
    got = run(exe).stdout.splitlines()
    arch = platform.machine()
    path = os.path.join(ROOT, "tests", "abi", "layout.txt")
    if os.environ.get("SMBCIM_ABI_RECORD") == "1":
        with open(path, "w") as f:
            f.write("# struct layouts of smbcim.h (tests/abi/run_abi_tests.py); arch %s\n" % arch)
            f.write("\n".join(got) + "\n")
    with open(path) as f:
        text = f.read()
    want = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    check("layout.txt was recorded on this architecture (%s)" % arch, "arch %s" % arch in text,
          text.splitlines()[:1])
    fixed = [ln for ln in want if ln.split(".")[0].split(" ")[0] not in GROWS_AT_END
             or " size " not in ln]
    missing = [ln for ln in fixed if ln not in got]
    check("the layouts of smbcim.h's structs are the recorded ones (sizes, and offsets; "
          "cim_class, cim_instance, smbcim_result may only grow at the end)",
          not missing, missing)


def main():
    version = version_macros()
    major = version.split(".")[0]
    so = os.path.join(BUILD, "libsmbcim.so.%s" % version)
    check("the library file is libsmbcim.so.%s" % version, os.path.isfile(so)
          and not os.path.islink(so), so)
    check("libsmbcim.so -> libsmbcim.so.%s -> the file" % major,
          os.readlink(os.path.join(BUILD, "libsmbcim.so")) == "libsmbcim.so." + major
          and os.readlink(os.path.join(BUILD, "libsmbcim.so." + major)) == os.path.basename(so))
    dyn = run("readelf", "-d", so).stdout
    check("SONAME libsmbcim.so.%s" % major, "[libsmbcim.so.%s]" % major in dyn, dyn[:300])
    nm = run("nm", "-D", "--defined-only", so).stdout.split("\n")
    exported = set()
    for line in nm:
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TtDdRrBbVvWw" and not parts[2].startswith("SMBCIM_"):
            exported.add(parts[2].split("@")[0])
    decl = declared()
    check("every exported symbol is declared in smbcim.h (%d exported)" % len(exported),
          exported <= decl, sorted(exported - decl))
    check("every function smbcim.h declares is exported (%d declared)" % len(decl),
          decl <= exported, sorted(decl - exported))
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dyn)
    san = [n for n in needed if "asan" in n or "ubsan" in n]
    sanflags = ["-fsanitize=address,undefined"] if san else []
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "app.c")
        with open(prog, "w") as f:
            f.write(r'''
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <smbcim.h>
/* Names that libsmbcim uses inside: the application's own must not be
 * called by the library. */
void *sc_xmalloc(size_t n);
void *sc_xmalloc(size_t n) { (void)n; fputs("hijacked\n", stderr); abort(); }
void *sc_arena_new(void);
void *sc_arena_new(void) { fputs("hijacked\n", stderr); abort(); }
int main(int argc, char **argv)
{
    (void)argc;
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", SMBCIM_VERSION_MAJOR, SMBCIM_VERSION_MINOR,
             SMBCIM_VERSION_PATCH);
    if (strcmp(v, smbcim_version()) != 0) {
        fprintf(stderr, "header %s, library %s\n", v, smbcim_version());
        return 3;
    }
    smbcim_error err;
    smbcim_ctx *ctx = smbcim_open_snapshot(argv[1], &err);
    if (!ctx) { fprintf(stderr, "%s\n", err.msg); return 1; }
    smbcim_result *res;
    if (smbcim_exec_query(ctx, "SELECT * FROM Win32_ServerConnection", &res, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    const cim_value *sv = smbcim_instance_get(res->instances[0], "sharename");
    if (!sv || sv->type != CIM_T_STRING || smbcim_instance_get(res->instances[0], "Nope")) {
        fputs("smbcim_instance_get\n", stderr);
        return 4;
    }
    printf("%zu %s\n", res->count, smbcim_version());
    smbcim_result_free(res);
    smbcim_close(ctx);
    return 0;
}
''')
        exe = os.path.join(tmp, "app")
        p = run("cc", "-std=c11", "-Wall", "-Wextra", "-Werror", *sanflags,
                "-I", os.path.join(ROOT, "include"), "-o", exe, prog, "-L", BUILD, "-lsmbcim")
        check("an application builds from smbcim.h and -lsmbcim alone", p.returncode == 0,
              p.stderr)
        if p.returncode == 0:
            env = dict(os.environ, LD_LIBRARY_PATH=BUILD, ASAN_OPTIONS="detect_leaks=0")
            r = run(exe, FS01, env=env)
            check("the application's own sc_xmalloc/sc_arena_new do not take over the "
                  "library's; smbcim_version() matches the header",
                  r.returncode == 0 and r.stdout.strip() == "8 " + version,
                  (r.returncode, r.stdout, r.stderr))
            ldd = run("ldd", exe, env=env).stdout
            check("... and it ran against the shared library", os.path.realpath(so) in
                  [os.path.realpath(x) for x in re.findall(r"=> (\S+)", ldd)], ldd)
        pc = run("pkg-config", "--with-path=" + BUILD, "--static", "--libs", "--cflags", "smbcim")
        check("smbcim.pc: Requires.private tdb resolves (static link flags name -ltdb)",
              pc.returncode == 0 and "-ltdb" in pc.stdout and "-lsmbcim" in pc.stdout,
              (pc.stdout, pc.stderr))
        layout_check(tmp)
    fails = [r for r in results if not r[1]]
    for name, ok, detail in results:
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else "\n     %s" % (detail,)))
    print("%d passed, %d failed" % (len(results) - len(fails), len(fails)))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
