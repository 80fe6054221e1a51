#!/usr/bin/env python3
"""Writes large and deep inputs (up to 1 MiB) for each fuzz target into
DIR/<target>/: the shapes that a short fuzz run with libFuzzer's default
max_len of 4,096 bytes never reaches — long OR chains, long SELECT lists,
thousands of method parameters, deep nesting of every kind.  tests/fuzz/
run.sh runs every target over them once, then fuzzes from them with
-max_len=1048576.  Generated, not stored: the files are big.

usage: big_seeds.py DIR
"""
import os
import sys

MIB = 1024 * 1024


def cimxml(method, params):
    return ('<?xml version="1.0" encoding="utf-8"?><CIM CIMVERSION="2.0" DTDVERSION="2.0">'
            '<MESSAGE ID="1" PROTOCOLVERSION="1.0"><SIMPLEREQ><IMETHODCALL NAME="%s">'
            '<LOCALNAMESPACEPATH><NAMESPACE NAME="root"/><NAMESPACE NAME="cimv2"/>'
            '</LOCALNAMESPACEPATH>%s</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>'
            % (method, params))


def exec_query(q):
    q = q.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")
    return cimxml("ExecQuery", '<IPARAMVALUE NAME="QueryLanguage"><VALUE>WQL</VALUE>'
                  '</IPARAMVALUE><IPARAMVALUE NAME="Query"><VALUE>%s</VALUE></IPARAMVALUE>' % q)


def or_chain(n):
    return "SELECT Name FROM Win32_Share WHERE " + " OR ".join(["x=0"] * n)


def seeds():
    s = {}
    # WQL: 110,000 ORs (770 KB, the finding), a chain just under the length
    # limit, deep parentheses and NOTs, a long SELECT list, a LIKE of %s.
    s["fuzz_wql"] = {
        "or110k": or_chain(110000),
        "or-under-limit": or_chain(9000)[:65536],
        "and-or-mix": "SELECT * FROM A WHERE " + " AND ".join("(a=%d OR b=%d)" % (i, i)
                                                           for i in range(400)),
        "parens": "SELECT * FROM A WHERE " + "(" * 300000 + "a=1" + ")" * 300000,
        "nots": "SELECT * FROM A WHERE " + "NOT " * 200000 + "a=1",
        "select-list": "SELECT " + ",".join(["Name"] * 150000) + " FROM Win32_Share",
        "like": "SELECT * FROM A WHERE a LIKE '" + "%a" * 300000 + "'",
        "long-string": "SELECT * FROM A WHERE a='" + "x" * (MIB - 40) + "'",
        # event queries: a dotted name of 300,000 parts, a GROUP BY list of
        # 100,000 names, a HAVING chain past the condition limit
        "event-dots": "SELECT * FROM E WITHIN 1 WHERE TargetInstance" + ".A" * 300000 + " = 1",
        "event-group-by": "SELECT * FROM E WITHIN 1 GROUP WITHIN 5 BY " +
                          ",".join(["TargetInstance.ShareName"] * 100000),
        "event-having": "SELECT * FROM E WITHIN 1 GROUP WITHIN 5 HAVING " +
                        " OR ".join("NumberOfEvents > %d" % i for i in range(3000))[:65000],
    }
    many = "".join('<IPARAMVALUE NAME="P%d"/>' % (i % 7) for i in range(19990))
    deep = "<X>" * 200000 + "</X>" * 200000
    s["fuzz_cimxml"] = {
        "params19990": cimxml("GetClass", '<IPARAMVALUE NAME="ClassName"><CLASSNAME '
                              'NAME="Win32_Share"/></IPARAMVALUE>' + many),
        "deep": '<?xml version="1.0"?><CIM CIMVERSION="2.0" DTDVERSION="2.0">' + deep + "</CIM>",
        "or110k": exec_query(or_chain(110000)),
        "array": cimxml("EnumerateInstances", '<IPARAMVALUE NAME="ClassName"><CLASSNAME '
                        'NAME="Win32_Share"/></IPARAMVALUE><IPARAMVALUE NAME="PropertyList">'
                        '<VALUE.ARRAY>' + "<VALUE>Name</VALUE>" * 60000 +
                        "</VALUE.ARRAY></IPARAMVALUE>"),
    }
    # fuzz_srvd: the first byte picks the identity and CIMMethod header.
    s["fuzz_srvd"] = {
        "or110k-admin": "\x00" + exec_query(or_chain(110000)),
        "or110k-user": "\x01" + exec_query(or_chain(110000)),
        "select-list": "\x00" + exec_query("SELECT " + ",".join(["Name"] * 80000) +
                                           " FROM Win32_Share"),
        "params19990": "\x00" + cimxml("GetClass", many),
        "assoc-deep": "\x01" + exec_query("ASSOCIATORS OF {Win32_Share.Name=\"" + "\\\\" * 300000
                                          + "\"}"),
    }
    s["fuzz_objpath"] = {
        "keys": "Win32_ServerConnection." + ",".join('k%d="v"' % i for i in range(60000)),
        "nested-ref": 'A.r="' + 'B.r=\\"' * 100000 + "x" + '\\"' * 100000 + '"',
        "long-value": 'Win32_Share.Name="' + "x" * (MIB - 30) + '"',
    }
    s["fuzz_json"] = {
        "deep-array": "[" * 500000 + "]" * 500000,
        "deep-object": '{"a":' * 100000 + "1" + "}" * 100000,
        "long-array": "[" + ",".join(["1"] * 400000) + "]",
        "long-string": '"' + "\\u00e9" * 170000 + '"',
    }
    s["fuzz_snapshot"] = {
        "deep": '{"format":"smbcim-snapshot","version":1,"shares":' + "[" * 300000,
        "many-shares": '{"format":"smbcim-snapshot","version":1,"computer":"FS","shares":[' +
                       ",".join('{"name":"s%d","path":"/srv/s%d","type":0}' % (i, i)
                                for i in range(20000)) + "]}",
    }
    s["fuzz_mof"] = {
        "many-props": "class Big { " + "".join("string P%d; " % i for i in range(60000)) + "};\n",
        "qualifiers": "[" + ",".join("Q%d" % i for i in range(100000)) + "] class Q { };\n",
        "deep-braces": "class D " + "{" * 300000 + "\n",
        "many-methods": "class M { " + "".join("uint32 F%d(); " % i for i in range(40000)) + "};\n",
        "many-parameters": "class P { uint32 F(" +
                           ", ".join("[In] string P%d" % i for i in range(40000)) + "); };\n",
        "many-declarations": "".join("Qualifier Q%d : string, Scope(any);\n" % i
                                     for i in range(20000)) +
                             "[" + ",".join("Q%d" % i for i in range(0, 20000, 100)) + "] class Q { };\n",
        "deep-inheritance": "[Association] class C0 { };\n" +
                            "".join("class C%d : C%d { };\n" % (i, i - 1) for i in range(1, 250)) +
                            "".join("[Association] class L%d : C249 { };\n" % i for i in range(25000)),
    }
    s["fuzz_smbconf"] = {
        "sections": "".join("[share%d]\npath = /srv/%d\ncomment = %s\n" % (i, i, "c" * 20)
                            for i in range(20000)),
        "long-line": "[global]\n  netbios name = " + "N" * (MIB - 40) + "\n",
        "continuations": "[global]\ncomment = a" + "\\\n a" * 300000 + "\n",
    }
    s["fuzz_smbstatus"] = {
        "sessions": "\nSamba version 4.17.12-Debian\nPID     Username     Group        Machine"
                    "                                   Protocol Version  Encryption"
                    "           Signing\n" + "-" * 120 + "\n" +
                    "".join("%d     user%d        users        127.0.0.%d (ipv4:127.0.0.%d:%d)"
                            "  SMB3_11           -                    partial(AES-128-CMAC)\n"
                            % (1000 + i, i, i % 250, i % 250, 40000 + i % 20000)
                            for i in range(8000)),
    }
    s["fuzz_samba_ndr"] = {
        "zeros": "\x00" + "\x00" * (MIB - 1),
        "ones": "\x01" + "\xff" * (MIB - 1),
        "locking": "\x02" + "\x01\x00\x00\x00" * (MIB // 4 - 1),
    }
    return s


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for target, files in seeds().items():
        d = os.path.join(sys.argv[1], target)
        os.makedirs(d, exist_ok=True)
        for name, text in files.items():
            data = text.encode("latin-1") if target == "fuzz_samba_ndr" else text.encode()
            with open(os.path.join(d, name), "wb") as f:
                f.write(data[:MIB])


if __name__ == "__main__":
    main()
