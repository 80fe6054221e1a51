/* fuzz_srvd.c - smbcimd's request handling (CIM-XML parse, header checks,
 * dispatch, authorization, pulled enumerations, response writing) on
 * arbitrary bodies, as an admin and as a plain user, over fs01.  The first
 * byte picks the identity and the CIMMethod header; every answer must be a
 * well-formed HTTP status. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbcimd/smbcimd.h"
#include "srvd_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    srv *server = fuzz_server();
    if (size < 1)
        return 0;
    static const char *const methods[] = {
        "EnumerateInstances", "GetInstance", "Associators", "References", "ExecQuery",
        "OpenEnumerateInstances", "PullInstancesWithPath", "GetClass",
    };
    srv_identity who = {"fuzz", (data[0] & 1) != 0};
    srv_response r;
    srv_handle(server, &who, methods[(data[0] >> 1) % 8], "root/cimv2", (const char *)data + 1,
               size - 1, &r);
    if (r.http_status != 200 && r.http_status != 400 && r.http_status != 501)
        abort();
    sc_buf_free(&r.body);
    srv_expire(server);
    return 0;
}
