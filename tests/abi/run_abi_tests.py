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
    fails = [r for r in results if not r[1]]
    for name, ok, detail in results:
        print(("ok   " if ok else "FAIL ") + name + ("" if ok else "\n     %s" % (detail,)))
    print("%d passed, %d failed" % (len(results) - len(fails), len(fails)))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
