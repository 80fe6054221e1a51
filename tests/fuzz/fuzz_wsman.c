/* fuzz_wsman.c - the WS-Management request parser on arbitrary bytes, a
 * fresh arena each time.  Whatever it returns must keep the contract of
 * wsman.h (a status with a positioned message and no request, or a request
 * whose selectors and EPRs are within the limits), and what smbcimd echoes
 * from it (MessageID, Action, the not-understood header, selector values,
 * the error message) must give a well-formed fault through the writer. */
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/wsman.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_be_xml(const sc_buf *b)
{
    XML_Parser p = XML_ParserCreate(NULL);
    if (XML_Parse(p, b->data ? b->data : "", (int)b->len, XML_TRUE) != XML_STATUS_OK) {
        fprintf(stderr, "writer output not well-formed (%s):\n%s\n",
                XML_ErrorString(XML_GetErrorCode(p)), b->data);
        abort();
    }
    XML_ParserFree(p);
}

static void check_text(const char *s)
{
    if (s && strlen(s) > WSMAN_MAX_TEXT)
        abort(); /* no kept text is longer than the limit */
}

static void check_selectors(const wsman_selector *sel, size_t n, int depth, sc_buf *out)
{
    if (n > WSMAN_MAX_SELECTORS || (n && !sel) || depth > WSMAN_MAX_EPR_DEPTH)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!sel[i].name || !*sel[i].name || !sel[i].value == !sel[i].epr)
            abort(); /* a name, and a value or an EPR */
        check_text(sel[i].name);
        check_text(sel[i].value);
        sc_buf_puts(out, "<s n=\"");
        wsman_escape(out, sel[i].name);
        sc_buf_puts(out, "\">");
        if (sel[i].value) {
            wsman_escape(out, sel[i].value);
        } else {
            const wsman_epr *e = sel[i].epr;
            check_text(e->address);
            check_text(e->resource_uri);
            wsman_escape(out, e->resource_uri);
            check_selectors(e->selectors, e->nselectors, depth + 1, out);
        }
        sc_buf_puts(out, "</s>");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_arena *a = sc_arena_new();
    wsman_request *r = NULL;
    wsman_parse_error err;
    wsman_parse_status st = wsman_parse_request(a, (const char *)data, size, &r, &err);
    if (st != err.status || (st == WSMAN_OK) != (r != NULL))
        abort();
    sc_buf out;
    sc_buf_init(&out);
    wsman_fault f = {.action = "urn:fault", .code = "s:Sender", .reason = "fuzz"};
    if (st != WSMAN_OK) {
        if (st > WSMAN_E_INVALID || strncmp(err.msg, "line ", 5) != 0)
            abort(); /* every failure says where */
        f.message = err.msg;
        wsman_write_fault(&out, NULL, &f);
        must_be_xml(&out);
    } else {
        if ((r->action == WSMAN_A_NONE) != (r->action_uri == NULL) ||
            (r->not_understood_name && !r->not_understood_ns) ||
            (r->bad_max_elements && r->has_max_elements) ||
            (r->filter == WSMAN_F_WQL && !r->filter_text) ||
            ((r->filter == WSMAN_F_ASSOCIATED || r->filter == WSMAN_F_ASSOCIATION) &&
             !r->filter_dialect) ||
            (r->identify && !r->has_body_element))
            abort();
        check_text(r->action_uri);
        check_text(r->message_id);
        check_text(r->resource_uri);
        check_text(r->operation_timeout);
        check_text(r->filter_text);
        check_text(r->context);
        f.reason = r->action_uri;
        f.message = r->filter_text;
        f.not_understood_ns = r->not_understood_ns;
        f.not_understood_name = r->not_understood_name;
        wsman_write_fault(&out, r->message_id, &f);
        must_be_xml(&out);
        sc_buf_reset(&out);
        sc_buf_puts(&out, "<r>");
        check_selectors(r->selectors, r->nselectors, 0, &out);
        if (r->assoc_object) {
            const wsman_epr *o = r->assoc_object;
            wsman_escape(&out, o->address);
            check_selectors(o->selectors, o->nselectors, 1, &out);
        }
        wsman_escape(&out, r->context);
        wsman_escape(&out, r->assoc_class);
        wsman_escape(&out, r->result_class);
        wsman_escape(&out, r->role);
        wsman_escape(&out, r->result_role);
        wsman_escape(&out, r->filter_dialect);
        sc_buf_puts(&out, "</r>");
        must_be_xml(&out);
    }
    sc_buf_free(&out);
    sc_arena_free(a);
    return 0;
}
