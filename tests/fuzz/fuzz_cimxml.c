/* fuzz_cimxml.c - CIM-XML request parser on arbitrary bytes; whatever it
 * accepts (or answers at CIM level) is then written back by the response
 * writer (error response with the parser's message, the instance name and
 * a reference to it, the properties of a CreateInstance's INSTANCE), and
 * that output must be well-formed XML.  The same bytes then go to the
 * parser of a listener's answer to ExportIndication. */
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
            /* a sent INSTANCE (CreateInstance): every decoded property is
             * whole and consistent, and writes back: names and texts as
             * strings, items as an array, a reference as a path */
            bool refs = false;
            const cimxml_instance *ni = req->new_instance;
            if (req->op == CIMXML_OP_CREATE_INSTANCE && (!ni || !ni->class_name))
                abort(); /* NewInstance is required */
            for (size_t i = 0; ni && i < ni->nprops; i++) {
                const cimxml_prop *p = &ni->props[i];
                if (!p->name || !*p->name || !p->line || !p->col ||
                    (p->is_null && (p->value || p->items || p->nitems)) ||
                    (!p->is_array && (p->items || p->nitems)) || (p->is_array && p->value) ||
                    (p->is_ref && (p->is_array || !p->type || strcmp(p->type, "reference"))) ||
                    (!p->is_ref && p->reference_class) ||
                    (!p->is_null && !p->is_array && !p->value))
                    abort();
                for (size_t j = 0; j < i; j++)
                    if (sc_streqi(ni->props[j].name, p->name))
                        abort(); /* duplicates are refused */
                cim_value name = {.type = CIM_T_STRING};
                name.v.s = sc_sprintf(a, "%s:%s:%s:%d", p->name, p->type ? p->type : "",
                                      p->reference_class ? p->reference_class : "",
                                      p->embedded);
                cimxml_put_value(&w, &name);
                if (p->value) {
                    cim_value v = {.type = p->is_ref ? CIM_T_REFERENCE : CIM_T_STRING};
                    v.v.s = p->value;
                    cimxml_put_value(&w, &v);
                    refs |= p->is_ref;
                }
                if (p->is_array && !p->is_null) {
                    cim_value *e = sc_alloc_array(a, p->nitems ? p->nitems : 1, sizeof *e);
                    for (size_t k = 0; k < p->nitems; k++) {
                        e[k].type = CIM_T_STRING;
                        e[k].null = p->items[k] == NULL;
                        e[k].v.s = p->items[k];
                    }
                    cim_value arr = {.type = CIM_T_STRING, .array = true,
                                     .count = (uint32_t)p->nitems};
                    arr.v.elems = e;
                    cimxml_put_value(&w, &arr);
                }
            }
            for (size_t i = 0; i < req->nproperty_list; i++) {
                cim_value v = {.type = CIM_T_STRING};
                v.v.s = req->property_list[i];
                cimxml_put_value(&w, &v);
            }
            cimxml_end_ireturn(&w);
            cimxml_put_pull_tail(&w, req->query, req->deep_inheritance == CIMXML_TRUE);
            cimxml_end_response(&w, false);
            /* the paths the parser builds always parse back (nothing else
             * written can fail) */
            if ((req->instance_name || refs) && !cimxml_writer_ok(&w)) {
                fprintf(stderr, "path \"%s\" refused: %s\n",
                        req->instance_name ? req->instance_name : "(a property's)", w.err.msg);
                abort();
            }
            must_be_xml(&out);
            cimxml_writer_free(&w);
        }
        sc_buf_free(&out);
    }
    sc_arena_free(a);
    /* the same bytes as a listener's answer to ExportIndication: a
     * refusal says where, an answer's code is a status code or 0 */
    int code = -1;
    char msg[300];
    size_t msz = size % 3 ? sizeof msg : 16;
    memset(msg, 'x', sizeof msg);
    bool eok = cimxml_parse_export_response((const char *)data, size, &code, msg, msz);
    if (!memchr(msg, '\0', msz))
        abort();
    if (!eok && (code != 0 || strncmp(msg, "line ", 5) != 0))
        abort();
    if (eok && code < 0)
        abort();
    return 0;
}
