/* fuzz_srvd_wsman.c - smbcimd's whole WS-Management request handling
 * (srv_wsman_handle: the hardened parser, the Identify-only rule without
 * credentials, dispatch through the engine, authorization, the enumeration
 * store, the envelope and fault writer) on arbitrary bodies over fs01.
 * The first byte picks the caller: no credentials, an admin, a plain user.
 * Every answer must carry an HTTP status smbcimd documents, and every body
 * it writes must be well-formed XML (checked with expat). */
#include <expat.h>
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
    static const srv_identity admin = {"fuzzadmin", true}, user = {"fuzzuser", false};
    const srv_identity *who = data[0] % 3 == 0 ? NULL : data[0] % 3 == 1 ? &admin : &user;
    unsigned status = 0;
    sc_buf out;
    sc_buf_init(&out);
    srv_wsman_handle(server, who, (const char *)data + 1, size - 1, &status, &out);
    if (status != 200 && status != 400 && status != 401 && status != 500)
        abort();
    if (out.len) {
        XML_Parser p = XML_ParserCreate("UTF-8");
        if (!p || XML_Parse(p, out.data, (int)out.len, 1) != XML_STATUS_OK) {
            fprintf(stderr, "not well-formed (%s):\n%.*s\n",
                    p ? XML_ErrorString(XML_GetErrorCode(p)) : "no parser", (int)out.len,
                    out.data);
            abort();
        }
        XML_ParserFree(p);
    }
    sc_buf_free(&out);
    srv_expire(server);
    return 0;
}
