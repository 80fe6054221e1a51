/* srvd_fixture.h - the smbcimd the server fuzz targets (fuzz_srvd.c,
 * fuzz_srvd_wsman.c) drive: configuration from the command line only, no
 * listener, tests/fixtures/fs01.json as its state (under SMBCIM_SRCDIR, else
 * the working directory).  Made once per process, never freed.
 * max-subscriptions 0: root/interop's CreateInstance is refused before it
 * reads its instance, so that no input makes the server POST indications
 * to an address the fuzzer made up (tests stay on loopback); the
 * subscription checks are unit- and end-to-end-tested instead. */
#ifndef SMBCIM_FUZZ_SRVD_FIXTURE_H
#define SMBCIM_FUZZ_SRVD_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "smbcimd/smbcimd.h"

static srv *fuzz_server(void)
{
    static srv_config cfg;
    static srv *server;
    if (server)
        return server;
    static char path[1024];
    const char *dir = getenv("SMBCIM_SRCDIR");
    snprintf(path, sizeof path, "%s/tests/fixtures/fs01.json", dir ? dir : ".");
    static char *argv[] = {"fuzz", "--config", "/dev/null", "--https", "none",
                           "--snapshot", path, "--max-subscriptions", "0",
                           "--state-dir", "/nonexistent/smbcim-fuzz", NULL};
    if (srv_config_load(&cfg, 11, argv) != 0)
        abort();
    server = srv_new(&cfg);
    return server;
}

#endif
