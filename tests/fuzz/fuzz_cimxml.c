/* fuzz_cimxml.c - CIM-XML request parser on arbitrary bytes; whatever it
 * accepts (or answers at CIM level) is then written back by the response
 * writer (error response with the parser's message, the instance name and
 * a reference to it), and that output must be well-formed XML. */
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/cimxml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The schema (no instances): the writer types keys through the classes. */
static smbcim_ctx *schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    smbcim_error err = {0};
    schema = smbcim_open_schema_only(&err);
    if (!schema) {
        fprintf(stderr, "schema: %s\n", err.msg);
        abort();
    }
    return 0;
}

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sc_arena *a = sc_arena_new();
    cimxml_request *req = NULL;
    cimxml_error err;
    bool ok = cimxml_parse_request(a, (const char *)data, size, &req, &err);
    if (!ok && err.kind != CIMXML_E_CIM && req)
        abort(); /* protocol-level failures return no request */
    if (!ok && (err.kind == CIMXML_OK || strncmp(err.msg, "line ", 5) != 0))
        abort(); /* every failure says where */
    if (req) {
        sc_buf out;
        sc_buf_init(&out);
        cimxml_write_error(&out, req->id, req->method, req->extrinsic,
                           ok ? CIM_ERR_FAILED : err.cim_code, err.msg);
        must_be_xml(&out);
        if (ok) {
            sc_buf_reset(&out);
            cimxml_writer w;
            cimxml_writer_init(&w, &out, size % 2 ? schema : NULL, req->enumeration_context);
            cimxml_begin_response(&w, req->id, req->method, false);
            cimxml_begin_ireturn(&w);
            if (req->instance_name) {
                cimxml_put_instancename_path(&w, req->instance_name);
                cim_value ref = {.type = CIM_T_REFERENCE};
                ref.v.s = req->instance_name;
                cimxml_put_value(&w, &ref);
            }
            if (req->class_name)
                cimxml_put_classname(&w, req->class_name);
            /* a sent INSTANCE: every property is whole, and its values
             * and references write back */
            const cimxml_instance *ni = req->new_instance;
            for (size_t i = 0; ni && i < ni->nprops; i++) {
                const cimxml_prop *p = &ni->props[i];
                if (!p->name || (p->is_null && (p->value || p->nitems)))
                    abort();
                cim_value v = {.type = p->is_ref ? CIM_T_REFERENCE : CIM_T_STRING};
                v.v.s = p->value;
                if (p->value)
                    cimxml_put_value(&w, &v);
                for (size_t k = 0; k < p->nitems; k++)
                    if (p->items[k] && !strlen(p->items[k]) && p->items[k][0])
                        abort();
            }
            for (size_t i = 0; i < req->nproperty_list; i++) {
                cim_value v = {.type = CIM_T_STRING};
                v.v.s = req->property_list[i];
                cimxml_put_value(&w, &v);
            }
            cimxml_end_ireturn(&w);
            cimxml_put_pull_tail(&w, req->query, req->deep_inheritance == CIMXML_TRUE);
            cimxml_end_response(&w, false);
            /* the paths the parser builds always parse back */
            if (req->instance_name && !cimxml_writer_ok(&w)) {
                fprintf(stderr, "path \"%s\" refused: %s\n", req->instance_name, w.err.msg);
                abort();
            }
            must_be_xml(&out);
            cimxml_writer_free(&w);
        }
        sc_buf_free(&out);
    }
    sc_arena_free(a);
    /* the same bytes as a listener's answer to ExportIndication */
    int code = 0;
    char msg[300];
    bool eok = cimxml_parse_export_response((const char *)data, size, &code, msg, sizeof msg);
    if (!eok && strncmp(msg, "line ", 5) != 0)
        abort(); /* says where */
    if (eok && (code < 0 || code > 1000))
        abort();
    return 0;
}
