#!/usr/bin/python3
"""End-to-end test of root/interop and indication subscriptions (DMTF
DSP1054) in smbcimd, with the real WBEM client wbemcli, a real smbd and
real SMB clients, and a CIM-XML listener that records what it receives
(tests/e2e/cim_listener.py).

    /usr/bin/python3 tests/e2e/run_indication_e2e.py   (as root; run make first)

Set-up: the throwaway smbd of demo/lib.sh (as run_watch_e2e.py), two Unix
users (an admin in smbcim-admins and a plain user), a self-signed
certificate, smbcimd on the live source with --state-dir in a temporary
directory, and a listener on a free port.

Checks:
  - discovery with wbemcli: CIM_Namespace (root/cimv2, root/interop),
    CIM_RegisteredProfile (Indications), the object manager's namespaces
    through CIM_NamespaceInManager (ai);
  - who may subscribe: no credentials 401, a non-admin's ci refused
    (CIM_ERR_ACCESS_DENIED) and not saved, a non-admin sees no filters;
  - creation checks: a query that does not parse (CIM_ERR_INVALID_QUERY
    and its column), no WITHIN, GROUP WITHIN, a language other than WQL, a
    URL with credentials, a subscription to a filter that does not exist;
  - the flow: wbemcli ci of a filter, a destination and the subscription;
    a client connects -> one CIM_InstCreation with the connection as
    SourceInstance; it opens a file on a second connection of the same
    user -> CIM_InstModification (NumberOfFiles); it leaves ->
    CIM_InstDeletion; an IPC$-only client is filtered out; every request
    valid CIM-XML (and valid against the DMTF DTD when SMBCIM_CIM_DTD names
    it); SequenceNumber 0, 1, 2, ...;
  - a listener that fails (HTTP 500) -> retried, dropped and logged,
    SubscriptionState 3; when it answers again, the next event arrives and
    the state is 2 again;
  - a filter in use cannot be deleted; restart of smbcimd keeps the
    subscriptions (and delivers after it); di of the subscription -> no
    more indications; a corrupt state file is set aside and logged.
Prints "ok ..." / "FAIL ..." per check and ends with "N passed, N failed".
"""
import glob
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from procs import Tally, TempAccounts, self_signed_cert, sh  # noqa: E402
from cim_listener import Listener  # noqa: E402
import run_server_e2e as srv  # noqa: E402  (Daemon, url)
import run_watch_e2e as w  # noqa: E402  (Server, Client, conn)

BUILD = os.environ.get("SMBCIM_BUILD", os.path.join(ROOT, "build"))
SMBCIMD = os.path.join(BUILD, "smbcimd")
ADMIN, ADMIN_PW = "smbcim_iadmin", "Adm1n-pass-ind"
USER, USER_PW = "smbcim_iuser", "Us3r-pass-ind"
GROUP = "smbcim-admins"
GECOS = "smbcim indication e2e temporary user"
WITHIN = 0.5
SETTLE = 3.0

tally = Tally()
check = tally.check


class Daemon(srv.Daemon):
    """run_server_e2e's smbcimd, on the live smbd, with its state in
    state_dir, quick retries, and credentials allowed over HTTP (loopback)."""

    def __init__(self, tmp, live, state_dir, name):
        super().__init__(tmp, ["--smb-conf", live.conf, "--allow-plain-http",
                               "--cache-seconds", "0", "--state-dir", state_dir,
                               "--indication-retry-attempts", "1",
                               "--indication-retry-interval", "1",
                               "--indication-timeout", "3"], name)

    def url(self, path, user=ADMIN, pw=ADMIN_PW):
        return srv.url(self, False, user, pw, path)


def wbemcli(verb, url, *args):
    p = sh("wbemcli", verb, url, *args, timeout=60)
    return p.returncode, p.stdout, p.stderr


def keys(host):
    return ('SystemCreationClassName="CIM_ComputerSystem",SystemName="%s"' % host)


FILTER_Q = ("SELECT * FROM __InstanceOperationEvent WITHIN %g WHERE TargetInstance ISA "
            "'Win32_ServerConnection' AND TargetInstance.ShareName != 'IPC$' AND "
            "__CLASS != '__InstanceModificationEvent'" % WITHIN)
MODS_Q = ("SELECT * FROM __InstanceModificationEvent WITHIN %g WHERE TargetInstance ISA "
          "'Win32_ServerConnection' AND PreviousInstance.NumberOfFiles = 0 AND "
          "TargetInstance.NumberOfFiles = 1" % WITHIN)


def create(d, cls, name, props, user=ADMIN, pw=ADMIN_PW):
    """wbemcli ci: it wants every key of the class in the path."""
    keyprops = 'CreationClassName="%s",Name="%s",%s' % (cls, name, keys(socket.gethostname()))
    return wbemcli("ci", d.url("root/interop:%s.%s" % (cls, keyprops), user, pw), props)


def indications(listener, since):
    return [r for r in listener.received[since:]]


def wait_count(listener, n, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and len(listener.received) < n:
        time.sleep(0.1)
    return len(listener.received) >= n


def discovery(d):
    rc, out, err = wbemcli("ein", d.url("root/interop:CIM_Namespace"))
    check("ein CIM_Namespace: root/cimv2 and root/interop",
          rc == 0 and 'Name="root/cimv2"' in out and 'Name="root/interop"' in out, out + err)
    rc, out, err = wbemcli("ei", d.url("root/interop:CIM_RegisteredProfile"))
    check("ei CIM_RegisteredProfile: Indications 1.2.2 and Profile Registration",
          rc == 0 and "Indications" in out and "1.2.2" in out and "Profile Registration" in out,
          out + err)
    rc, out, err = wbemcli("ein", d.url("root/interop:CIM_ObjectManager"))
    om = out.strip().splitlines()[0] if rc == 0 and out.strip() else ""
    check("ein CIM_ObjectManager: one", rc == 0 and len(out.strip().splitlines()) == 1, out + err)
    if om:
        path = re.sub(r"^[^/]*/", "", om)  # wbemcli prints HOST:PORT/namespace:path
        rc, out, err = wbemcli("ain", d.url(path), "-ac", "CIM_NamespaceInManager")
        check("ain from the object manager (CIM_NamespaceInManager): both namespaces",
              rc == 0 and out.count("CIM_Namespace.") == 2, (path, out, err))
    rc, out, err = wbemcli("gc", d.url("root/interop:CIM_IndicationFilter"))
    check("gc CIM_IndicationFilter", rc == 0 and "Query" in out, out + err)


def refusals(d, lst, host):
    rc, out, err = wbemcli("ein", d.url("root/interop:CIM_IndicationFilter", None, None))
    check("no credentials: refused (401)", rc != 0 and
          ("401" in (out + err) or "password required" in (out + err)), out + err)
    rc, out, err = create(d, "CIM_IndicationFilter", "mine",
                          'Name="mine",Query="%s",QueryLanguage="WQL"' % FILTER_Q, USER, USER_PW)
    check("a non-admin cannot create a filter (CIM_ERR_ACCESS_DENIED)",
          rc != 0 and "ACCESS_DENIED" in (out + err), out + err)
    rc, out, err = wbemcli("ein", d.url("root/interop:CIM_IndicationFilter", USER, USER_PW))
    check("a non-admin cannot list the filters", rc != 0 and "ACCESS_DENIED" in (out + err),
          out + err)
    cases = [
        ("a query that does not parse: CIM_ERR_INVALID_QUERY with the column",
         'Name="bad1",Query="SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISAA \'Win32_Share\'",QueryLanguage="WQL"',
         r"INVALID_QUERY.*column|column.*INVALID_QUERY"),
        ("no WITHIN: WBEMESS_E_REGISTRATION_TOO_PRECISE",
         'Name="bad2",Query="SELECT * FROM __InstanceCreationEvent WHERE TargetInstance ISA \'Win32_Share\'",QueryLanguage="WQL"',
         r"REGISTRATION_TOO_PRECISE"),
        ("GROUP WITHIN: not deliverable",
         'Name="bad3",Query="SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA \'Win32_Share\' GROUP WITHIN 5",QueryLanguage="WQL"',
         r"NOT_SUPPORTED|GROUP WITHIN"),
        ("QueryLanguage CQL: CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED",
         'Name="bad4",Query="SELECT * FROM CIM_InstCreation",QueryLanguage="DMTF:CQL"',
         r"QUERY_LANGUAGE_NOT_SUPPORTED"),
        ("a data query, not an event query",
         'Name="bad5",Query="SELECT * FROM Win32_Share",QueryLanguage="WQL"',
         r"INVALID_QUERY"),
    ]
    for name, props, want in cases:
        key = re.search(r'Name="([^"]+)"', props).group(1)
        rc, out, err = create(d, "CIM_IndicationFilter", key, props)
        check("refused: " + name, rc != 0 and re.search(want, out + err), out + err)
    rc, out, err = create(d, "CIM_ListenerDestinationCIMXML", "secret",
                          'Name="secret",Destination="http://u:hunter2@127.0.0.1:%d/"' % lst.port)
    check("refused: a destination URL with credentials (and the password not logged)",
          rc != 0 and "credentials" in (out + err) and "hunter2" not in d.logtext(), out + err)
    rc, out, err = create(d, "CIM_ListenerDestinationCIMXML", "ftp",
                          'Name="ftp",Destination="ftp://127.0.0.1/"')
    check("refused: a destination that is not http(s)", rc != 0, out + err)
    rc, out, err = wbemcli("ein", d.url("root/interop:CIM_IndicationFilter"))
    check("nothing refused was kept", rc == 0 and out.strip() == "", out + err)


def fref(host, name, server="127.0.0.1/"):
    return ('%sroot/interop:CIM_IndicationFilter.CreationClassName="CIM_IndicationFilter",'
            'Name="%s",%s' % (server, name, keys(host)))


def dref(host, name, server="127.0.0.1/"):
    return ('%sroot/interop:CIM_ListenerDestinationCIMXML.CreationClassName='
            '"CIM_ListenerDestinationCIMXML",Name="%s",%s' % (server, name, keys(host)))


def sub_path(host, filt, dest, server="127.0.0.1/"):
    # wbemcli's reference syntax: KEY=NAMESPACE:CLASS.KEYS, unquoted, in the
    # object path; a property value (ci) needs HOST/ first, or it takes the
    # namespace's first part for a host
    return "Filter=%s,Handler=%s" % (fref(host, filt, server), dref(host, dest, server))


def subscribe(d, host, filt, dest):
    keyprops = sub_path(host, filt, dest)
    return wbemcli("ci", d.url("root/interop:CIM_IndicationSubscription." + keyprops), keyprops)


def sub_state(d):
    rc, out, err = wbemcli("ei", d.url("root/interop:CIM_IndicationSubscription"))
    return re.findall(r"SubscriptionState=(\d+)", out), out + err


def main():
    if os.geteuid() != 0:
        print("info run_indication_e2e.py needs root (smbd, users); skipped")
        print("0 passed, 0 failed")
        return 0
    if not shutil.which("wbemcli"):
        check("wbemcli installed", False)
        return tally.summary()
    tmp = tempfile.mkdtemp(prefix="smbcim-ind-e2e.")
    os.chmod(tmp, 0o755)
    state = os.path.join(tmp, "state")
    accounts = TempAccounts(GECOS)
    live = None
    d = None
    lst = None
    clients = []
    host = socket.gethostname()
    try:
        open(os.path.join(tmp, "empty.conf"), "w").close()
        self_signed_cert(tmp)
        accounts.pam_service()
        accounts.group(GROUP)
        accounts.user(ADMIN, ADMIN_PW, [GROUP])
        accounts.user(USER, USER_PW)
        live = w.Server()
        lst = Listener().start()
        d = Daemon(tmp, live, state, "1")
        if not check("setup: smbcimd running", d.proc.poll() is None, d.logtext()):
            return tally.summary()
        discovery(d)
        refusals(d, lst, host)

        rc, out, err = create(d, "CIM_IndicationFilter", "conns",
                              'Name="conns",Query="%s",QueryLanguage="WQL"' % FILTER_Q)
        check("ci CIM_IndicationFilter (admin)", rc == 0 and "CIM_IndicationFilter" in out,
              out + err)
        rc, out, err = create(d, "CIM_IndicationFilter", "files",
                              'Name="files",Query="%s",QueryLanguage="WQL"' % MODS_Q)
        check("ci a second filter (NumberOfFiles 0 -> 1)", rc == 0, out + err)
        rc, out, err = create(d, "CIM_ListenerDestinationCIMXML", "nms",
                              'Name="nms",Destination="%s"' % lst.url)
        check("ci CIM_ListenerDestinationCIMXML", rc == 0, out + err)
        rc, out, err = subscribe(d, host, "nowhere", "nms")
        check("a subscription to a filter that does not exist: refused", rc != 0, out + err)
        for f in ("conns", "files"):
            rc, out, err = subscribe(d, host, f, "nms")
            check("ci CIM_IndicationSubscription (%s -> nms)" % f, rc == 0, out + err)
        rc, out, err = subscribe(d, host, "conns", "nms")
        check("the same subscription twice: CIM_ERR_ALREADY_EXISTS", rc != 0 and
              "ALREADY_EXISTS" in (out + err), out + err)
        rc, out, err = wbemcli("ein", d.url("root/interop:CIM_IndicationSubscription"))
        check("ein CIM_IndicationSubscription: two", rc == 0 and len(out.strip().splitlines()) == 2,
              out + err)
        with open(os.path.join(state, "subscriptions.json")) as f:
            saved = json.load(f)
        check("the state file holds them", len(saved["filters"]) == 2 and
              len(saved["subscriptions"]) == 2, saved)
        time.sleep(SETTLE)  # the first poll takes the state as it is

        alice = "smbcim_alice"
        c1 = w.Client(live, [w.conn("a1", "127.0.0.21", alice, ["Projects"])])
        clients.append(c1)
        ok = wait_count(lst, 1, 15)
        time.sleep(SETTLE)
        got = list(lst.received)
        ind = got[0]["indication"] if got and got[0]["indication"] else {}
        src = ind.get("embedded", {}).get("SourceInstance", {}).get("props", {})
        check("a client connects: one CIM_InstCreation", ok and len(got) == 1 and
              ind.get("class") == "CIM_InstCreation", [g.get("indication") for g in got])
        check("... SourceInstance is its Win32_ServerConnection",
              src.get("ShareName") == "Projects" and src.get("UserName") == alice and
              src.get("ComputerName") == "127.0.0.21", src)
        props = ind.get("props", {})
        check("... IndicationFilterName, SequenceNumber 0, IndicationTime",
              props.get("IndicationFilterName") == "conns" and props.get("SequenceNumber") == 0
              and re.match(r"\d{14}\.\d{6}[+-]\d{3}$", str(props.get("IndicationTime"))), props)
        check("... valid CIM-XML%s" % (" (and the DTD)" if os.environ.get("SMBCIM_CIM_DTD")
                                        else ""), all(g["valid"] for g in got),
              [g["problems"] for g in got])

        n = len(lst.received)
        c2 = w.Client(live, [w.conn("a2", "127.0.0.21", alice, ["Projects"], ["ind.txt"])])
        clients.append(c2)
        wait_count(lst, n + 1, 15)
        time.sleep(SETTLE)
        got = lst.received[n:]
        cls = [g["indication"]["class"] for g in got if g["indication"]]
        check("a file opened on the same connection: one CIM_InstModification",
              cls == ["CIM_InstModification"], cls)
        if got and got[0]["indication"]:
            emb = got[0]["indication"]["embedded"]
            check("... PreviousInstance NumberOfFiles 0, SourceInstance 1",
                  emb.get("PreviousInstance", {}).get("props", {}).get("NumberOfFiles") == 0 and
                  emb.get("SourceInstance", {}).get("props", {}).get("NumberOfFiles") == 1, emb)

        n = len(lst.received)
        c3 = w.Client(live, [w.conn("ipc", "127.0.0.22", "smbcim_bob", ["IPC$"])])
        clients.append(c3)
        time.sleep(SETTLE)
        check("an IPC$-only client is filtered out (ShareName != 'IPC$')",
              len(lst.received) == n, [g["indication"] for g in lst.received[n:]])

        for c in (c2, c1):
            c.stop()
            clients.remove(c)
        wait_count(lst, n + 1, 15)
        time.sleep(SETTLE)
        got = lst.received[n:]
        cls = [g["indication"]["class"] for g in got if g["indication"]]
        check("the client leaves: one CIM_InstDeletion", cls == ["CIM_InstDeletion"], cls)
        seqs = [g["indication"]["props"]["SequenceNumber"] for g in lst.received
                if g["indication"] and g["indication"]["props"].get("IndicationFilterName") == "conns"]
        check("SequenceNumber counts 0, 1, ... per subscription", seqs == list(range(len(seqs))),
              seqs)

        # a listener that fails, then comes back
        lst.set_mode("http500")
        n = len(lst.received)
        c4 = w.Client(live, [w.conn("a4", "127.0.0.23", alice, ["Projects"])])
        clients.append(c4)
        wait_count(lst, n + 2, 20)  # the first attempt and one retry
        time.sleep(2)
        states, text = sub_state(d)
        check("a failing listener: the attempt and its retry, then dropped and logged",
              len(lst.received) - n == 2 and "dropped" in d.logtext(),
              (len(lst.received) - n, d.logtext()[-600:]))
        check("... SubscriptionState 3 (Enabled Degraded) for its subscriptions",
              states.count("3") == 2, text)
        lst.set_mode("ok")
        n = len(lst.received)
        c4.stop()
        clients.remove(c4)
        ok = wait_count(lst, n + 1, 15)
        got = lst.received[n:]
        check("the listener answers again: the next event arrives",
              ok and got and got[-1]["indication"]["class"] == "CIM_InstDeletion",
              [g["indication"] for g in got])
        states, text = sub_state(d)
        check("... SubscriptionState back to 2", states == ["2", "2"], text)

        rc, out, err = wbemcli("di", d.url(fref(host, "conns", "")))
        check("a filter in use cannot be deleted", rc != 0 and "subscription" in (out + err),
              out + err)

        # restart: the subscriptions stay
        d.stop()
        d = Daemon(tmp, live, state, "2")
        rc, out, err = wbemcli("ein", d.url("root/interop:CIM_IndicationSubscription"))
        check("after a restart: both subscriptions are there",
              rc == 0 and len(out.strip().splitlines()) == 2, out + err + d.logtext())
        time.sleep(SETTLE)
        n = len(lst.received)
        c5 = w.Client(live, [w.conn("a5", "127.0.0.24", alice, ["Projects"])])
        clients.append(c5)
        ok = wait_count(lst, n + 1, 15)
        check("... and deliver", ok and lst.received[-1]["indication"]["class"] ==
              "CIM_InstCreation", [g["indication"] for g in lst.received[n:]])

        # unsubscribe
        rc, out, err = wbemcli("di", d.url("root/interop:CIM_IndicationSubscription." +
                                           sub_path(host, "conns", "nms", "")))
        check("di CIM_IndicationSubscription", rc == 0, out + err)
        time.sleep(1)
        n = len(lst.received)
        c5.stop()
        clients.remove(c5)
        time.sleep(SETTLE + 1)
        check("... no more indications from it", len(lst.received) == n,
              [g["indication"] for g in lst.received[n:]])
        rc, out, err = wbemcli("di", d.url(fref(host, "conns", "")))
        check("an unused filter can be deleted", rc == 0, out + err)

        # a corrupt state file
        d.stop()
        with open(os.path.join(state, "subscriptions.json"), "w") as fh:
            fh.write('{"smbcim_subscriptions": 1, "filters": [{"name": 3}]}\n')
        d = Daemon(tmp, live, state, "3")
        log = d.logtext()
        aside = glob.glob(os.path.join(state, "subscriptions.json.corrupt-*"))
        check("a corrupt state file: logged with line and column, set aside, empty start",
              "corrupt" in log and "line 1, column" in log and len(aside) == 1 and
              d.proc.poll() is None, log[-800:])
        rc, out, err = wbemcli("ein", d.url("root/interop:CIM_IndicationFilter"))
        check("... no filters", rc == 0 and out.strip() == "", out + err)
        # a change that cannot be written is not made
        os.chmod(state, 0o500)
        rc, out, err = create(d, "CIM_IndicationFilter", "unsaved",
                              'Name="unsaved",Query="%s",QueryLanguage="WQL"' % FILTER_Q)
        os.chmod(state, 0o700)
        rc2, out2, err2 = wbemcli("ein", d.url("root/interop:CIM_IndicationFilter"))
        check("the state file cannot be written: CIM_ERR_FAILED saying why, nothing created",
              rc != 0 and "cannot be kept" in (out + err) and rc2 == 0 and out2.strip() == "",
              (out + err, out2 + err2))
        check("smbcimd still running", d.proc.poll() is None, d.logtext()[-2000:])
    except w.SetupError as e:
        check("set-up", False, e)
    finally:
        for c in clients:
            c.stop()
        if d:
            d.stop()
        if lst:
            lst.stop()
        if live:
            live.stop()
        accounts.remove()
        shutil.rmtree(tmp, ignore_errors=True)
    return tally.summary()


if __name__ == "__main__":
    sys.exit(main())
