/*
 * test_srv_wsman_req.c - the WS-Management request parser
 * (src/server/wsman_req.c, contract src/server/wsman.h): a Windows-shaped
 * Enumerate with WQL, every prefix spelling, Identify, Pull, Release, Get
 * with plain and REF selectors, both association filters, unknown
 * dialects, mustUnderstand headers, number parsing, and the refusals (DTDs
 * and entities, not SOAP, malformed parts, every limit, every truncation of
 * a valid request), each with a "line L, column C: " message.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "server/wsman.h"

/* ---- envelopes ------------------------------------------------------------ */

#define NS_DECLS                                                                        \
    " xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:a=\"" WSMAN_NS_ADDR "\" xmlns:n=\"" WSMAN_NS_ENUM \
    "\" xmlns:w=\"" WSMAN_NS_WSMAN "\" xmlns:p=\"" WSMAN_NS_MSWSMAN "\" xmlns:b=\""      \
    WSMAN_NS_CIMBINDING "\""
#define ENV(hdr, body) \
    "<s:Envelope" NS_DECLS "><s:Header>" hdr "</s:Header><s:Body>" body "</s:Body></s:Envelope>"
#define ACTION(x) "<a:Action s:mustUnderstand=\"true\">" x "</a:Action>"
#define DMTF_URI "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/"
#define ANON "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

/* The shape of the CIM cmdlets' Enumerate (wsman.md 2.1), our own values. */
static const char windows_enumerate[] =
    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
    "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
    "xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\" "
    "xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\" "
    "xmlns:p=\"http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd\" "
    "xmlns:b=\"http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd\">\n"
    "  <s:Header>\n"
    "    <a:To>https://fs01.example.org:5986/wsman</a:To>\n"
    "    <w:ResourceURI s:mustUnderstand=\"true\">http://schemas.dmtf.org/wbem/wscim/1/*</w:ResourceURI>\n"
    "    <a:ReplyTo><a:Address s:mustUnderstand=\"true\">" ANON "</a:Address></a:ReplyTo>\n"
    "    <a:Action s:mustUnderstand=\"true\">\n"
    "      http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate\n"
    "    </a:Action>\n"
    "    <w:MaxEnvelopeSize s:mustUnderstand=\"true\">153600</w:MaxEnvelopeSize>\n"
    "    <a:MessageID>uuid:7f3a1c22-0B4D-4E8E-9A51-3C6D2E1F0A99</a:MessageID>\n"
    "    <w:Locale xml:lang=\"de-CH\" s:mustUnderstand=\"false\" />\n"
    "    <p:DataLocale xml:lang=\"de-CH\" s:mustUnderstand=\"false\" />\n"
    "    <p:ActivityId s:mustUnderstand=\"false\">0A1B2C3D-0000-0001-ABCD-0123456789AB</p:ActivityId>\n"
    "    <p:SessionId s:mustUnderstand=\"false\">uuid:11111111-2222-3333-4444-555555555555</p:SessionId>\n"
    "    <p:OperationID s:mustUnderstand=\"false\">uuid:66666666-7777-8888-9999-000000000000</p:OperationID>\n"
    "    <p:SequenceId s:mustUnderstand=\"false\">3</p:SequenceId>\n"
    "    <w:OperationTimeout>PT90.000S</w:OperationTimeout>\n"
    "    <w:SelectorSet><w:Selector Name=\"__cimnamespace\">root/cimv2</w:Selector></w:SelectorSet>\n"
    "    <w:OptionSet xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
    "      <w:Option Name=\"msftwinrm:UsePreciseArrays\" Type=\"xs:boolean\">true</w:Option>\n"
    "      <w:Option Name=\"wmiarray:__MI_OPERATIONOPTIONS_CHANNELVALUE\" Type=\"xs:unsignedInt\">0</w:Option>\n"
    "      <w:Option Name=\"wmiarray:__MI_OPERATIONOPTIONS_CHANNELVALUE\" Type=\"xs:unsignedInt\">2</w:Option>\n"
    "    </w:OptionSet>\n"
    "  </s:Header>\n"
    "  <s:Body>\n"
    "    <n:Enumerate>\n"
    "      <w:OptimizeEnumeration/>\n"
    "      <w:MaxElements>500</w:MaxElements>\n"
    "      <w:EnumerationMode>EnumerateObjectAndEPR</w:EnumerationMode>\n"
    "      <b:PolymorphismMode>IncludeSubClassProperties</b:PolymorphismMode>\n"
    "      <w:Filter Dialect=\"http://schemas.microsoft.com/wbem/wsman/1/WQL\">SELECT Name, Path "
    "FROM Win32_Share WHERE Description = &apos;R&amp;D &lt;team&gt;&apos;</w:Filter>\n"
    "    </n:Enumerate>\n"
    "  </s:Body>\n"
    "</s:Envelope>\n";

/* ---- helpers ----------------------------------------------------------------- */

static wsman_request *parse_ok_len(sc_arena *a, const char *xml, size_t len)
{
    wsman_request *r = NULL;
    wsman_parse_error err;
    wsman_parse_status st = wsman_parse_request(a, xml, len, &r, &err);
    if (st != WSMAN_OK)
        fail_msg("expected OK, got %d: %s\n%s", (int)st, err.msg, xml);
    assert_int_equal(err.status, WSMAN_OK);
    assert_non_null(r);
    return r;
}

static wsman_request *parse_ok(sc_arena *a, const char *xml)
{
    return parse_ok_len(a, xml, strlen(xml));
}

/* Refused with want; the message says where and contains `about`. */
static void parse_bad_len(const char *xml, size_t len, wsman_parse_status want,
                          const char *about)
{
    sc_arena *a = sc_arena_new();
    wsman_request *r = (wsman_request *)(uintptr_t)1; /* must be reset */
    wsman_parse_error err;
    wsman_parse_status st = wsman_parse_request(a, xml, len, &r, &err);
    if (st != want)
        fail_msg("expected status %d, got %d (%s) for\n%.300s", (int)want, (int)st, err.msg,
                 xml);
    assert_int_equal(err.status, want);
    assert_null(r);
    if (strncmp(err.msg, "line ", 5) != 0 || !strstr(err.msg, ", column "))
        fail_msg("message without a position: %s", err.msg);
    if (about && !strstr(err.msg, about))
        fail_msg("message \"%s\" does not mention \"%s\"", err.msg, about);
    sc_arena_free(a);
}

static void parse_bad(const char *xml, wsman_parse_status want, const char *about)
{
    parse_bad_len(xml, strlen(xml), want, about);
}

/* ---- the Windows Enumerate --------------------------------------------------- */

static void test_windows_enumerate(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(a, windows_enumerate);
    assert_int_equal(r->action, WSMAN_A_ENUMERATE);
    assert_string_equal(r->action_uri, WSMAN_ACTION_ENUMERATE); /* trimmed, newlines too */
    assert_string_equal(r->message_id, "uuid:7f3a1c22-0B4D-4E8E-9A51-3C6D2E1F0A99");
    assert_string_equal(r->resource_uri, "http://schemas.dmtf.org/wbem/wscim/1/*");
    assert_int_equal(r->nselectors, 1);
    assert_string_equal(r->selectors[0].name, "__cimnamespace");
    assert_string_equal(r->selectors[0].value, "root/cimv2");
    assert_null(r->selectors[0].epr);
    assert_true(r->has_max_envelope);
    assert_int_equal(r->max_envelope, 153600);
    assert_string_equal(r->operation_timeout, "PT90.000S");
    assert_null(r->not_understood_ns);
    assert_null(r->not_understood_name);
    assert_false(r->data_locale_must);
    assert_false(r->identify);
    assert_true(r->has_body_element);
    assert_true(r->optimize);
    assert_true(r->has_max_elements);
    assert_false(r->bad_max_elements);
    assert_int_equal(r->max_elements, 500);
    assert_int_equal(r->mode, WSMAN_M_OBJECT_AND_EPR);
    assert_false(r->bad_mode);
    assert_int_equal(r->filter, WSMAN_F_WQL);
    assert_string_equal(r->filter_dialect, WSMAN_DIALECT_WQL);
    assert_string_equal(r->filter_text,
                        "SELECT Name, Path FROM Win32_Share WHERE Description = 'R&D <team>'");
    assert_null(r->assoc_object);
    assert_null(r->context);
    assert_int_equal(r->noptions, 3); /* in order, repeated names kept */
    assert_string_equal(r->options[0].name, "msftwinrm:UsePreciseArrays");
    assert_string_equal(r->options[0].value, "true");
    assert_false(r->options[0].must_comply);
    assert_string_equal(r->options[2].name, "wmiarray:__MI_OPERATIONOPTIONS_CHANNELVALUE");
    assert_string_equal(r->options[2].value, "2");
    sc_arena_free(a);
}

/* ---- w:OptionSet --------------------------------------------------------------- */

static void test_options(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(a, ENV(
        "<w:OptionSet xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
        "<w:Option Name=\" IncludeInheritanceHierarchy \" Type=\"xs:boolean\"> true </w:Option>"
        "<w:Option Name=\"X\" MustComply=\"true\"/>"
        "<w:Option Name=\"Y\" MustComply=\"1\">a&amp;b</w:Option>"
        "<w:Option Name=\"Z\" MustComply=\"false\">0</w:Option>"
        "<w:Other>ignored</w:Other>"
        "</w:OptionSet>", ""));
    assert_int_equal(r->noptions, 4);
    assert_string_equal(r->options[0].name, "IncludeInheritanceHierarchy");
    assert_string_equal(r->options[0].value, "true");
    assert_false(r->options[0].must_comply);
    assert_string_equal(r->options[1].value, "");
    assert_true(r->options[1].must_comply);
    assert_string_equal(r->options[2].value, "a&b");
    assert_true(r->options[2].must_comply);
    assert_false(r->options[3].must_comply);
    r = parse_ok(a, ENV("<w:OptionSet/>", ""));
    assert_int_equal(r->noptions, 0);
    r = parse_ok(a, ENV("", ""));
    assert_int_equal(r->noptions, 0);
    assert_null(r->options);
    sc_arena_free(a);

    parse_bad(ENV("<w:OptionSet><w:Option>v</w:Option></w:OptionSet>", ""), WSMAN_E_INVALID,
              "w:Option without a Name");
    parse_bad(ENV("<w:OptionSet><w:Option Name=\" \">v</w:Option></w:OptionSet>", ""),
              WSMAN_E_INVALID, "w:Option without a Name");
    parse_bad(ENV("<w:OptionSet><w:Option Name=\"A\"><x/></w:Option></w:OptionSet>", ""),
              WSMAN_E_INVALID, "w:Option A");
    parse_bad(ENV("<w:OptionSet/><w:OptionSet/>", ""), WSMAN_E_INVALID, "w:OptionSet");
    for (int n = WSMAN_MAX_OPTIONS; n <= WSMAN_MAX_OPTIONS + 1; n++) {
        sc_buf in;
        sc_buf_init(&in);
        sc_buf_puts(&in, "<s:Envelope" NS_DECLS "><s:Header><w:OptionSet>");
        for (int i = 0; i < n; i++)
            sc_buf_printf(&in, "<w:Option Name=\"O%d\">%d</w:Option>", i, i);
        sc_buf_puts(&in, "</w:OptionSet></s:Header><s:Body/></s:Envelope>");
        if (n <= WSMAN_MAX_OPTIONS) {
            a = sc_arena_new();
            r = parse_ok(a, in.data);
            assert_int_equal(r->noptions, n);
            assert_string_equal(r->options[n - 1].value, "63");
            sc_arena_free(a);
        } else {
            parse_bad(in.data, WSMAN_E_LIMIT, "options");
        }
        sc_buf_free(&in);
    }
}

/* Nothing points into the input: parse a heap copy, scribble it, free it. */
static void test_no_pointers_into_input(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    size_t n = sizeof windows_enumerate - 1;
    char *copy = malloc(n);
    assert_non_null(copy);
    memcpy(copy, windows_enumerate, n);
    wsman_request *r = parse_ok_len(a, copy, n); /* no NUL after it either */
    memset(copy, 'X', n);
    free(copy);
    assert_string_equal(r->resource_uri, "http://schemas.dmtf.org/wbem/wscim/1/*");
    assert_string_equal(r->selectors[0].value, "root/cimv2");
    assert_string_equal(r->filter_text,
                        "SELECT Name, Path FROM Win32_Share WHERE Description = 'R&D <team>'");
    sc_arena_free(a);
}

/* ---- prefixes ----------------------------------------------------------------- */

#define GET_HDR(s)                                                                      \
    "<a:Action " s ":mustUnderstand=\"true\">" WSMAN_ACTION_GET "</a:Action>"             \
    "<a:MessageID>uuid:1</a:MessageID>"                                                 \
    "<w:ResourceURI>" DMTF_URI "Win32_Share</w:ResourceURI>"                            \
    "<w:SelectorSet><w:Selector Name=\"Name\">Projects</w:Selector></w:SelectorSet>"    \
    "<x:Unknown xmlns:x=\"urn:example:x\" " s ":mustUnderstand=\"1\"/>"

static const struct {
    const char *name;
    const char *xml;
} prefix_cases[] = {
    {"s", ENV(GET_HDR("s"), "")},
    {"soap",
     "<soap:Envelope xmlns:soap=\"" WSMAN_NS_SOAP "\" xmlns:a=\"" WSMAN_NS_ADDR
     "\" xmlns:w=\"" WSMAN_NS_WSMAN "\"><soap:Header>" GET_HDR("soap")
     "</soap:Header><soap:Body/></soap:Envelope>"},
    {"SOAP-ENV",
     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV=\""
     WSMAN_NS_SOAP "\" xmlns:a=\"" WSMAN_NS_ADDR "\" xmlns:w=\"" WSMAN_NS_WSMAN
     "\"><SOAP-ENV:Header>" GET_HDR("SOAP-ENV") "</SOAP-ENV:Header><SOAP-ENV:Body>"
     "</SOAP-ENV:Body></SOAP-ENV:Envelope>"},
    {"env",
     "<env:Envelope xmlns:env=\"" WSMAN_NS_SOAP "\"><env:Header>"
     "<wsa:Action xmlns:wsa=\"" WSMAN_NS_ADDR "\">" WSMAN_ACTION_GET "</wsa:Action>"
     "<wsa:MessageID xmlns:wsa=\"" WSMAN_NS_ADDR "\">uuid:1</wsa:MessageID>"
     "<wsman:ResourceURI xmlns:wsman=\"" WSMAN_NS_WSMAN "\">" DMTF_URI
     "Win32_Share</wsman:ResourceURI>"
     "<wsman:SelectorSet xmlns:wsman=\"" WSMAN_NS_WSMAN "\"><wsman:Selector Name=\"Name\">"
     "Projects</wsman:Selector></wsman:SelectorSet>"
     "<x:Unknown xmlns:x=\"urn:example:x\" env:mustUnderstand=\"true\"/>"
     "</env:Header><env:Body></env:Body></env:Envelope>"},
    /* the default namespace everywhere, redeclared per element */
    {"default",
     "<Envelope xmlns=\"" WSMAN_NS_SOAP "\" xmlns:S=\"" WSMAN_NS_SOAP "\"><Header>"
     "<Action xmlns=\"" WSMAN_NS_ADDR "\">" WSMAN_ACTION_GET "</Action>"
     "<MessageID xmlns=\"" WSMAN_NS_ADDR "\">uuid:1</MessageID>"
     "<ResourceURI xmlns=\"" WSMAN_NS_WSMAN "\">" DMTF_URI "Win32_Share</ResourceURI>"
     "<SelectorSet xmlns=\"" WSMAN_NS_WSMAN "\"><Selector Name=\"Name\">Projects</Selector>"
     "</SelectorSet>"
     "<Unknown xmlns=\"urn:example:x\" S:mustUnderstand=\"true\"/>"
     "</Header><Body/></Envelope>"},
    /* the usual prefixes bound to each other's namespaces */
    {"swapped",
     "<a:Envelope xmlns:a=\"" WSMAN_NS_SOAP "\" xmlns:s=\"" WSMAN_NS_ADDR "\" xmlns:n=\""
     WSMAN_NS_WSMAN "\"><a:Header>"
     "<s:Action>" WSMAN_ACTION_GET "</s:Action><s:MessageID>uuid:1</s:MessageID>"
     "<n:ResourceURI>" DMTF_URI "Win32_Share</n:ResourceURI>"
     "<n:SelectorSet><n:Selector Name=\"Name\">Projects</n:Selector></n:SelectorSet>"
     "<x:Unknown xmlns:x=\"urn:example:x\" a:mustUnderstand=\"true\"/>"
     "</a:Header><a:Body/></a:Envelope>"},
};

static void test_prefixes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof prefix_cases / sizeof prefix_cases[0]; i++) {
        sc_arena *a = sc_arena_new();
        wsman_request *r = parse_ok(a, prefix_cases[i].xml);
        if (r->action != WSMAN_A_GET)
            fail_msg("%s: action %d", prefix_cases[i].name, (int)r->action);
        assert_string_equal(r->message_id, "uuid:1");
        assert_string_equal(r->resource_uri, DMTF_URI "Win32_Share");
        assert_int_equal(r->nselectors, 1);
        assert_string_equal(r->selectors[0].name, "Name");
        assert_string_equal(r->selectors[0].value, "Projects");
        assert_non_null(r->not_understood_name);
        assert_string_equal(r->not_understood_ns, "urn:example:x");
        assert_string_equal(r->not_understood_name, "Unknown");
        assert_false(r->has_body_element);
        sc_arena_free(a);
    }
}

/* Names are matched by namespace: the right prefixes on the wrong URIs. */
static void test_prefix_is_not_namespace(void **state)
{
    (void)state;
    /* SOAP 1.1 */
    parse_bad("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\">"
              "<s:Body/></s:Envelope>",
              WSMAN_E_NOT_SOAP, "Envelope");
    /* a:Action and w:ResourceURI in other namespaces are unknown headers */
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(
        a, "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:a=\"urn:not-addressing\" "
           "xmlns:w=\"urn:not-wsman\"><s:Header><a:Action>" WSMAN_ACTION_GET "</a:Action>"
           "<w:ResourceURI>x</w:ResourceURI></s:Header><s:Body/></s:Envelope>");
    assert_int_equal(r->action, WSMAN_A_NONE);
    assert_null(r->action_uri);
    assert_null(r->resource_uri);
    assert_null(r->not_understood_name);
    sc_arena_free(a);
}

/* ---- Identify, Pull, Release -------------------------------------------------- */

static void test_identify(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\" xmlns:wsmid=\"" WSMAN_NS_IDENTITY "\">\n"
        "  <s:Header/>\n  <s:Body><wsmid:Identify/></s:Body>\n</s:Envelope>",
        /* no Header at all, content in Identify ignored */
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body><Identify xmlns=\""
        WSMAN_NS_IDENTITY "\"><x>y</x></Identify></s:Body></s:Envelope>",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_arena *a = sc_arena_new();
        wsman_request *r = parse_ok(a, cases[i]);
        assert_int_equal(r->action, WSMAN_A_NONE);
        assert_null(r->action_uri);
        assert_null(r->message_id);
        assert_true(r->identify);
        assert_true(r->has_body_element);
        assert_int_equal(r->filter, WSMAN_F_NONE);
        sc_arena_free(a);
    }
}

static void test_pull(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(
        a, ENV(ACTION(WSMAN_ACTION_PULL) "<a:MessageID>uuid:2</a:MessageID>"
                   "<w:ResourceURI>" DMTF_URI "Win32_Share</w:ResourceURI>",
               "<n:Pull>\n"
               "  <n:EnumerationContext>\n    uuid:22EB9809-5543-4020-A75C-FD95FF06217B  \n"
               "  </n:EnumerationContext>\n"
               "  <n:MaxTime>PT30S</n:MaxTime><n:MaxCharacters>10000</n:MaxCharacters>\n"
               "  <w:OptimizeEnumeration/><w:MaxElements>999</w:MaxElements>\n"
               "  <p:SessionId>uuid:3</p:SessionId>\n"
               "  <n:MaxElements> 20 </n:MaxElements>\n"
               "</n:Pull>"));
    assert_int_equal(r->action, WSMAN_A_PULL);
    assert_string_equal(r->context, "uuid:22EB9809-5543-4020-A75C-FD95FF06217B");
    assert_true(r->has_max_elements);
    assert_int_equal(r->max_elements, 20);
    assert_false(r->optimize); /* only Enumerate's counts */
    assert_true(r->has_body_element);
    sc_arena_free(a);

    /* a MaxElements that is no number */
    a = sc_arena_new();
    r = parse_ok(a, ENV(ACTION(WSMAN_ACTION_PULL),
                        "<n:Pull><n:EnumerationContext>uuid:4</n:EnumerationContext>"
                        "<n:MaxElements>many</n:MaxElements></n:Pull>"));
    assert_false(r->has_max_elements);
    assert_true(r->bad_max_elements);
    sc_arena_free(a);
}

static void test_release(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(
        a, ENV(ACTION(WSMAN_ACTION_RELEASE) "<a:MessageID>uuid:5</a:MessageID>",
               "<n:Release><n:EnumerationContext>uuid:AB</n:EnumerationContext></n:Release>"));
    assert_int_equal(r->action, WSMAN_A_RELEASE);
    assert_string_equal(r->context, "uuid:AB");
    assert_false(r->has_max_elements);
    sc_arena_free(a);
}

static void test_other_action(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    /* the OMIGOD shape: an Invoke, an unknown body element */
    wsman_request *r = parse_ok(
        a, ENV(ACTION(DMTF_URI "SCX_OperatingSystem/ExecuteShellCommand")
               "<w:ResourceURI>" DMTF_URI "SCX_OperatingSystem</w:ResourceURI>"
               "<w:SelectorSet><w:Selector Name=\"__cimnamespace\">root/scx</w:Selector>"
               "</w:SelectorSet><w:OptionSet s:mustUnderstand=\"true\"/>",
               "<p:ExecuteShellCommand_INPUT xmlns:p=\"" DMTF_URI "SCX_OperatingSystem\">"
               "<p:command>id</p:command><p:timeout>0</p:timeout>"
               "</p:ExecuteShellCommand_INPUT>"));
    assert_int_equal(r->action, WSMAN_A_OTHER);
    assert_string_equal(r->action_uri, DMTF_URI "SCX_OperatingSystem/ExecuteShellCommand");
    assert_true(r->has_body_element);
    assert_false(r->identify);
    assert_null(r->not_understood_name); /* OptionSet is understood */
    sc_arena_free(a);

    /* the action URIs are compared exactly */
    a = sc_arena_new();
    r = parse_ok(a, ENV(ACTION("HTTP://schemas.xmlsoap.org/ws/2004/09/transfer/Get"), ""));
    assert_int_equal(r->action, WSMAN_A_OTHER);
    sc_arena_free(a);
}

/* ---- Get and selectors -------------------------------------------------------- */

static void test_get_selectors(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(
        a, ENV(ACTION(WSMAN_ACTION_GET) "<w:ResourceURI>\n " DMTF_URI
               "Win32_Share\n</w:ResourceURI>"
               "<w:SelectorSet>\n"
               "  <w:Selector Name=\"__cimnamespace\">root/cimv2</w:Selector>\n"
               "  <w:Selector Name=\" Name \"> My Share </w:Selector>\n"
               "  <w:Selector Name=\"Empty\"/>\n"
               "  <w:Selector Name=\"Esc\">a&amp;b&lt;c&#x20AC;<![CDATA[<d>]]></w:Selector>\n"
               "  <w:Selector Name=\"name\">dup</w:Selector>\n"
               "  <w:Other>ignored</w:Other>\n"
               "</w:SelectorSet>",
               ""));
    assert_int_equal(r->action, WSMAN_A_GET);
    assert_string_equal(r->resource_uri, DMTF_URI "Win32_Share");
    assert_false(r->has_body_element);
    assert_int_equal(r->nselectors, 5);
    assert_string_equal(r->selectors[0].name, "__cimnamespace");
    assert_string_equal(r->selectors[0].value, "root/cimv2");
    assert_string_equal(r->selectors[1].name, "Name");       /* the name trimmed */
    assert_string_equal(r->selectors[1].value, " My Share "); /* the value kept as is */
    assert_string_equal(r->selectors[2].name, "Empty");
    assert_string_equal(r->selectors[2].value, "");
    assert_string_equal(r->selectors[3].value, "a&b<c\xe2\x82\xac<d>");
    assert_string_equal(r->selectors[4].name, "name"); /* duplicates kept */
    for (size_t i = 0; i < r->nselectors; i++)
        assert_null(r->selectors[i].epr);
    sc_arena_free(a);
}

#define EPR_OPEN "<a:EndpointReference><a:Address>" ANON "</a:Address><a:ReferenceParameters>"
#define EPR_CLOSE "</a:ReferenceParameters></a:EndpointReference>"

static void test_get_ref_selector(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(
        a, ENV(ACTION(WSMAN_ACTION_GET) "<w:ResourceURI>" DMTF_URI
               "Win32_SessionConnection</w:ResourceURI>"
               "<w:SelectorSet>"
               "<w:Selector Name=\"__cimnamespace\">root/cimv2</w:Selector>"
               "<w:Selector Name=\"Antecedent\">\n  "
               EPR_OPEN "<w:ResourceURI>" DMTF_URI "Win32_ServerSession</w:ResourceURI>"
               "<w:SelectorSet><w:Selector Name=\"UserName\">alice</w:Selector>"
               "<w:Selector Name=\"ComputerName\">10.0.0.7</w:Selector></w:SelectorSet>"
               EPR_CLOSE "\n</w:Selector>"
               "<w:Selector Name=\"Dependent\">"
               "<a:EndpointReference><a:ReferenceParameters>"
               "<w:SelectorSet><w:Selector Name=\"Inner\">"
               EPR_OPEN "<w:ResourceURI>" DMTF_URI "Win32_Share</w:ResourceURI>"
               "<w:SelectorSet><w:Selector Name=\"Name\">Projects</w:Selector></w:SelectorSet>"
               EPR_CLOSE "</w:Selector></w:SelectorSet>"
               "<x:Extra xmlns:x=\"urn:x\">skipped</x:Extra>"
               "</a:ReferenceParameters><cim:Other xmlns:cim=\"urn:y\"/></a:EndpointReference>"
               "</w:Selector>"
               "</w:SelectorSet>",
               ""));
    assert_int_equal(r->nselectors, 3);
    const wsman_selector *ant = &r->selectors[1];
    assert_string_equal(ant->name, "Antecedent");
    assert_null(ant->value);
    assert_non_null(ant->epr);
    assert_string_equal(ant->epr->address, ANON);
    assert_string_equal(ant->epr->resource_uri, DMTF_URI "Win32_ServerSession");
    assert_int_equal(ant->epr->nselectors, 2);
    assert_string_equal(ant->epr->selectors[0].name, "UserName");
    assert_string_equal(ant->epr->selectors[0].value, "alice");
    assert_string_equal(ant->epr->selectors[1].name, "ComputerName");
    assert_string_equal(ant->epr->selectors[1].value, "10.0.0.7");

    const wsman_selector *dep = &r->selectors[2];
    assert_null(dep->value);
    assert_non_null(dep->epr);
    assert_null(dep->epr->address);
    assert_null(dep->epr->resource_uri);
    assert_int_equal(dep->epr->nselectors, 1);
    const wsman_selector *inner = &dep->epr->selectors[0];
    assert_string_equal(inner->name, "Inner");
    assert_non_null(inner->epr);
    assert_string_equal(inner->epr->resource_uri, DMTF_URI "Win32_Share");
    assert_int_equal(inner->epr->nselectors, 1);
    assert_string_equal(inner->epr->selectors[0].value, "Projects");
    sc_arena_free(a);
}

/* ---- Enumerate options, filters ------------------------------------------------- */

#define ASSOC_OBJECT                                                                     \
    "<b:Object>\n  <a:Address>" ANON "</a:Address>\n  <a:ReferenceParameters>"          \
    "<w:ResourceURI>" DMTF_URI "Win32_Share</w:ResourceURI>"                             \
    "<w:SelectorSet><w:Selector Name=\"__cimnamespace\">root/cimv2</w:Selector>"         \
    "<w:Selector Name=\"Name\">Projects</w:Selector></w:SelectorSet>"                   \
    "</a:ReferenceParameters>\n</b:Object>"
#define ASSOC_NAMES                                                                      \
    "<b:AssociationClassName> Win32_ConnectionShare </b:AssociationClassName>"           \
    "<b:Role>Antecedent</b:Role><b:ResultClassName>Win32_ServerConnection"              \
    "</b:ResultClassName><b:ResultRole>\nDependent\n</b:ResultRole><b:Unknown>x</b:Unknown>"
#define ENUM_FILTER(dialect, inner)                                                      \
    ENV(ACTION(WSMAN_ACTION_ENUMERATE) "<w:ResourceURI>http://schemas.dmtf.org/wbem/wscim/1/*" \
        "</w:ResourceURI>",                                                              \
        "<n:Enumerate><w:OptimizeEnumeration/><w:MaxElements>32000</w:MaxElements>"     \
        "<w:Filter Dialect=\"" dialect "\">" inner "</w:Filter></n:Enumerate>")

static const struct {
    const char *xml;
    wsman_filter want;
} assoc_cases[] = {
    {ENUM_FILTER(WSMAN_DIALECT_ASSOC,
                 "<b:AssociatedInstances>" ASSOC_OBJECT ASSOC_NAMES "</b:AssociatedInstances>"),
     WSMAN_F_ASSOCIATED},
    {ENUM_FILTER(WSMAN_DIALECT_ASSOC,
                 "\n<b:AssociationInstances>" ASSOC_NAMES ASSOC_OBJECT "</b:AssociationInstances>\n"),
     WSMAN_F_ASSOCIATION},
    /* winrm.vbs spells the dialect with a capital A; n:Filter like w:Filter */
    {ENV(ACTION(WSMAN_ACTION_ENUMERATE),
         "<n:Enumerate><n:Filter Dialect=\"http://schemas.dmtf.org/wbem/wsman/1/cimbinding/"
         "AssociationFilter\"><b:AssociatedInstances>" ASSOC_OBJECT ASSOC_NAMES
         "</b:AssociatedInstances></n:Filter></n:Enumerate>"),
     WSMAN_F_ASSOCIATED},
};

static void test_assoc_filter(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof assoc_cases / sizeof assoc_cases[0]; i++) {
        sc_arena *a = sc_arena_new();
        wsman_request *r = parse_ok(a, assoc_cases[i].xml);
        assert_int_equal(r->action, WSMAN_A_ENUMERATE);
        assert_int_equal(r->filter, assoc_cases[i].want);
        assert_true(sc_streqi(r->filter_dialect, WSMAN_DIALECT_ASSOC));
        assert_null(r->filter_text);
        assert_string_equal(r->assoc_class, "Win32_ConnectionShare");
        assert_string_equal(r->role, "Antecedent");
        assert_string_equal(r->result_class, "Win32_ServerConnection");
        assert_string_equal(r->result_role, "Dependent");
        const wsman_epr *o = r->assoc_object;
        assert_non_null(o);
        assert_string_equal(o->address, ANON);
        assert_string_equal(o->resource_uri, DMTF_URI "Win32_Share");
        assert_int_equal(o->nselectors, 2);
        assert_string_equal(o->selectors[0].name, "__cimnamespace");
        assert_string_equal(o->selectors[1].name, "Name");
        assert_string_equal(o->selectors[1].value, "Projects");
        sc_arena_free(a);
    }
    /* only the Object: the names stay NULL */
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(
        a, ENUM_FILTER(WSMAN_DIALECT_ASSOC,
                       "<b:AssociationInstances>" ASSOC_OBJECT "</b:AssociationInstances>"));
    assert_int_equal(r->filter, WSMAN_F_ASSOCIATION);
    assert_non_null(r->assoc_object);
    assert_null(r->assoc_class);
    assert_null(r->role);
    assert_null(r->result_class);
    assert_null(r->result_role);
    sc_arena_free(a);
    /* no Object: parsed, the caller faults */
    a = sc_arena_new();
    r = parse_ok(a, ENUM_FILTER(WSMAN_DIALECT_ASSOC,
                                "<b:AssociatedInstances>" ASSOC_NAMES "</b:AssociatedInstances>"));
    assert_int_equal(r->filter, WSMAN_F_ASSOCIATED);
    assert_null(r->assoc_object);
    sc_arena_free(a);
}

static void test_filters(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    /* an unknown dialect: its content is not looked at */
    wsman_request *r = parse_ok(
        a, ENUM_FILTER("http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf",
                       "SELECT * FROM X<q:y xmlns:q=\"urn:q\"/>"));
    assert_int_equal(r->filter, WSMAN_F_OTHER);
    assert_string_equal(r->filter_dialect, "http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf");
    assert_null(r->filter_text);
    sc_arena_free(a);

    /* WQL in another case, CDATA, text kept exactly (white space included) */
    a = sc_arena_new();
    r = parse_ok(a, ENUM_FILTER("HTTP://SCHEMAS.MICROSOFT.COM/WBEM/WSMAN/1/wql",
                                "\n  select * <![CDATA[from Win32_Share where Name < 'b']]>\n"));
    assert_int_equal(r->filter, WSMAN_F_WQL);
    assert_string_equal(r->filter_dialect, "HTTP://SCHEMAS.MICROSOFT.COM/WBEM/WSMAN/1/wql");
    assert_string_equal(r->filter_text, "\n  select * from Win32_Share where Name < 'b'\n");
    sc_arena_free(a);

    /* no Dialect, text: WQL */
    a = sc_arena_new();
    r = parse_ok(a, ENV(ACTION(WSMAN_ACTION_ENUMERATE),
                        "<n:Enumerate><n:Filter>SELECT * FROM Win32_Share</n:Filter>"
                        "</n:Enumerate>"));
    assert_int_equal(r->filter, WSMAN_F_WQL);
    assert_null(r->filter_dialect);
    assert_string_equal(r->filter_text, "SELECT * FROM Win32_Share");
    sc_arena_free(a);

    /* no Dialect, elements: not WQL */
    a = sc_arena_new();
    r = parse_ok(a, ENV(ACTION(WSMAN_ACTION_ENUMERATE),
                        "<n:Enumerate><w:Filter>text<b:AssociatedInstances/>more"
                        "</w:Filter></n:Enumerate>"));
    assert_int_equal(r->filter, WSMAN_F_OTHER);
    assert_null(r->filter_dialect);
    assert_null(r->filter_text);
    sc_arena_free(a);

    /* an empty WQL filter is parsed (the caller refuses it) */
    a = sc_arena_new();
    r = parse_ok(a, ENUM_FILTER(WSMAN_DIALECT_WQL, ""));
    assert_int_equal(r->filter, WSMAN_F_WQL);
    assert_string_equal(r->filter_text, "");
    sc_arena_free(a);

    /* a Dialect attribute in a namespace is not the Dialect */
    a = sc_arena_new();
    r = parse_ok(a, ENV(ACTION(WSMAN_ACTION_ENUMERATE),
                        "<n:Enumerate><w:Filter w:Dialect=\"urn:other\">SELECT * FROM X"
                        "</w:Filter></n:Enumerate>"));
    assert_int_equal(r->filter, WSMAN_F_WQL);
    assert_null(r->filter_dialect);
    sc_arena_free(a);
}

static void test_enumerate_options(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        bool optimize, has_max, bad_max;
        uint64_t max;
        wsman_mode mode;
        bool bad_mode;
    } cases[] = {
        {"<n:Enumerate/>", false, false, false, 0, WSMAN_M_OBJECTS, false},
        {"<n:Enumerate><w:EnumerationMode> EnumerateEPR </w:EnumerationMode></n:Enumerate>",
         false, false, false, 0, WSMAN_M_EPR, false},
        {"<n:Enumerate><w:EnumerationMode>enumerateepr</w:EnumerationMode></n:Enumerate>",
         false, false, false, 0, WSMAN_M_OBJECTS, true},
        {"<n:Enumerate><w:EnumerationMode/></n:Enumerate>", false, false, false, 0,
         WSMAN_M_OBJECTS, true},
        {"<n:Enumerate><n:MaxElements>7</n:MaxElements></n:Enumerate>", false, true, false, 7,
         WSMAN_M_OBJECTS, false},
        {"<n:Enumerate><w:OptimizeEnumeration>junk<x/></w:OptimizeEnumeration>"
         "<w:MaxElements>-1</w:MaxElements></n:Enumerate>",
         true, false, true, 0, WSMAN_M_OBJECTS, false},
        {"<n:Enumerate><w:MaxElements>99999999999999999999999</w:MaxElements></n:Enumerate>",
         false, true, false, UINT64_MAX, WSMAN_M_OBJECTS, false},
        {"<n:Enumerate><w:MaxElements></w:MaxElements></n:Enumerate>", false, false, true, 0,
         WSMAN_M_OBJECTS, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_arena *a = sc_arena_new();
        char xml[2048];
        snprintf(xml, sizeof xml, ENV(ACTION(WSMAN_ACTION_ENUMERATE), "%s"), cases[i].body);
        wsman_request *r = parse_ok(a, xml);
        assert_int_equal(r->optimize, cases[i].optimize);
        assert_int_equal(r->has_max_elements, cases[i].has_max);
        assert_int_equal(r->bad_max_elements, cases[i].bad_max);
        assert_true(r->max_elements == cases[i].max);
        assert_int_equal(r->mode, cases[i].mode);
        assert_int_equal(r->bad_mode, cases[i].bad_mode);
        assert_int_equal(r->filter, WSMAN_F_NONE);
        sc_arena_free(a);
    }
}

/* ---- headers ----------------------------------------------------------------- */

static void test_must_understand(void **state)
{
    (void)state;
    static const struct {
        const char *hdr;
        const char *ns, *name; /* NULL: none recorded */
        bool data_locale_must;
    } cases[] = {
        {"<x:A xmlns:x=\"urn:a\" s:mustUnderstand=\"true\"/>"
         "<y:B xmlns:y=\"urn:b\" s:mustUnderstand=\"true\"/>",
         "urn:a", "A", false},
        {"<w:FragmentTransfer s:mustUnderstand=\"1\">x</w:FragmentTransfer>", WSMAN_NS_WSMAN,
         "FragmentTransfer", false},
        {"<x:A xmlns:x=\"urn:a\" s:mustUnderstand=\" true \"/>", "urn:a", "A", false},
        /* not "true" or "1" */
        {"<x:A xmlns:x=\"urn:a\" s:mustUnderstand=\"false\"/>"
         "<x:B xmlns:x=\"urn:a\" s:mustUnderstand=\"0\"/>"
         "<x:C xmlns:x=\"urn:a\" s:mustUnderstand=\"TRUE\"/>"
         "<x:D xmlns:x=\"urn:a\" mustUnderstand=\"true\"/>"
         "<x:E xmlns:x=\"urn:a\" xmlns:o=\"http://schemas.xmlsoap.org/soap/envelope/\" "
         "o:mustUnderstand=\"1\"/>",
         NULL, NULL, false},
        /* only direct header children count */
        {"<a:ReplyTo><a:Address s:mustUnderstand=\"true\">" ANON "</a:Address></a:ReplyTo>"
         "<x:Wrap xmlns:x=\"urn:a\"><x:In s:mustUnderstand=\"true\"/></x:Wrap>",
         NULL, NULL, false},
        /* headers understood whatever their mustUnderstand says */
        {"<w:OptionSet s:mustUnderstand=\"true\"><w:Option Name=\"x\" s:mustUnderstand=\"true\""
         ">1</w:Option></w:OptionSet><w:Locale xml:lang=\"fr-FR\" s:mustUnderstand=\"true\"/>"
         "<p:SessionId s:mustUnderstand=\"true\">uuid:1</p:SessionId>"
         "<p:OperationID s:mustUnderstand=\"true\">uuid:2</p:OperationID>"
         "<p:SequenceId s:mustUnderstand=\"true\">1</p:SequenceId>"
         "<p:ActivityId s:mustUnderstand=\"true\">x</p:ActivityId>"
         "<a:To s:mustUnderstand=\"true\">https://h/wsman</a:To>"
         "<w:OperationTimeout s:mustUnderstand=\"true\">PT1M</w:OperationTimeout>",
         NULL, NULL, false},
        {"<p:DataLocale xml:lang=\"fr-FR\" s:mustUnderstand=\"true\"/>", NULL, NULL, true},
        {"<p:DataLocale xml:lang=\"fr-FR\" s:mustUnderstand=\"1\"/>", NULL, NULL, true},
        {"<p:DataLocale xml:lang=\"fr-FR\" s:mustUnderstand=\"false\"/>", NULL, NULL, false},
        /* SOAP roles: a header for someone else is not ours to understand */
        {"<x:A xmlns:x=\"urn:a\" s:mustUnderstand=\"true\" "
         "s:role=\"http://www.w3.org/2003/05/soap-envelope/role/none\"/>"
         "<x:B xmlns:x=\"urn:a\" s:mustUnderstand=\"true\" s:role=\"urn:somebody-else\"/>",
         NULL, NULL, false},
        {"<x:A xmlns:x=\"urn:a\" s:mustUnderstand=\"true\" "
         "s:role=\"http://www.w3.org/2003/05/soap-envelope/role/next\"/>",
         "urn:a", "A", false},
        {"<x:A xmlns:x=\"urn:a\" s:mustUnderstand=\"true\" "
         "s:role=\"http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver\"/>",
         "urn:a", "A", false},
        /* a header in no namespace */
        {"<Plain s:mustUnderstand=\"true\"/>", "", "Plain", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_arena *a = sc_arena_new();
        char xml[4096];
        snprintf(xml, sizeof xml, ENV(ACTION(WSMAN_ACTION_GET) "%s", ""), cases[i].hdr);
        wsman_request *r = parse_ok(a, xml);
        assert_int_equal(r->action, WSMAN_A_GET);
        if (cases[i].name) {
            if (!r->not_understood_name)
                fail_msg("case %zu: nothing recorded", i);
            assert_string_equal(r->not_understood_ns, cases[i].ns);
            assert_string_equal(r->not_understood_name, cases[i].name);
        } else if (r->not_understood_name) {
            fail_msg("case %zu: %s recorded", i, r->not_understood_name);
        }
        assert_int_equal(r->data_locale_must, cases[i].data_locale_must);
        sc_arena_free(a);
    }
}

static void test_max_envelope(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        uint64_t want;
    } good[] = {
        {"512000", 512000},
        {"\n 8192 \t", 8192},
        {"0", 0},
        {"00008191", 8191},
        {"18446744073709551615", UINT64_MAX},
        {"18446744073709551616", UINT64_MAX},
        {"99999999999999999999999999999999999999", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sc_arena *a = sc_arena_new();
        char xml[2048];
        snprintf(xml, sizeof xml,
                 ENV(ACTION(WSMAN_ACTION_GET) "<w:MaxEnvelopeSize s:mustUnderstand=\"true\">%s"
                                              "</w:MaxEnvelopeSize>",
                     ""),
                 good[i].text);
        wsman_request *r = parse_ok(a, xml);
        assert_true(r->has_max_envelope);
        if (r->max_envelope != good[i].want)
            fail_msg("\"%s\": %llu", good[i].text, (unsigned long long)r->max_envelope);
        sc_arena_free(a);
    }
    static const char *const bad[] = {"", " ", "abc", "-1", "+5", "12k", "0x10", "1 2", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char xml[2048];
        snprintf(xml, sizeof xml,
                 ENV(ACTION(WSMAN_ACTION_GET) "<w:MaxEnvelopeSize>%s</w:MaxEnvelopeSize>", ""),
                 bad[i]);
        parse_bad(xml, WSMAN_E_INVALID, "MaxEnvelopeSize");
    }
    /* absent */
    sc_arena *a = sc_arena_new();
    wsman_request *r = parse_ok(a, ENV(ACTION(WSMAN_ACTION_GET), ""));
    assert_false(r->has_max_envelope);
    assert_null(r->operation_timeout);
    sc_arena_free(a);
}

/* ---- refusals ------------------------------------------------------------------ */

static void test_dtd_and_entities(void **state)
{
    (void)state;
    static const char billion_laughs[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
        " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
        " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
        " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
        " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
        " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
        "]>\n" ENV(ACTION(WSMAN_ACTION_ENUMERATE),
                   "<n:Enumerate><w:Filter>&lol9;</w:Filter></n:Enumerate>");
    parse_bad(billion_laughs, WSMAN_E_NOT_XML, "DOCTYPE");
    parse_bad("<!DOCTYPE s:Envelope>" ENV("", ""), WSMAN_E_NOT_XML, "DOCTYPE");
    /* external entity (XXE) */
    parse_bad("<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
              ENV("<a:MessageID>&xxe;</a:MessageID>", ""),
              WSMAN_E_NOT_XML, "DOCTYPE");
    parse_bad("<!DOCTYPE x SYSTEM \"http://example.org/x.dtd\">" ENV("", ""), WSMAN_E_NOT_XML,
              "DOCTYPE");
    /* an entity used without any declaration */
    parse_bad(ENV("<a:MessageID>&lol;</a:MessageID>", ""), WSMAN_E_NOT_XML, "not well-formed");
}

static void test_not_xml(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "",
        "   ",
        "not xml at all",
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body></s:Envelope>",
        ENV("", "") "<second/>",
        "<s:Envelope><s:Body/></s:Envelope>",                 /* unbound prefix */
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body x=\"1\" x=\"2\"/></s:Envelope>",
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body>&#0;</s:Body></s:Envelope>",
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body>\x01</s:Body></s:Envelope>",
        "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body>\xff\xfe</s:Body></s:Envelope>",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_bad(cases[i], WSMAN_E_NOT_XML, "not well-formed");
    /* a NULL body of length 0 */
    wsman_request *r = NULL;
    wsman_parse_error err;
    sc_arena *a = sc_arena_new();
    assert_int_equal(wsman_parse_request(a, NULL, 0, &r, &err), WSMAN_E_NOT_XML);
    assert_null(r);
    assert_memory_equal(err.msg, "line ", 5);
    sc_arena_free(a);
}

static void test_not_soap(void **state)
{
    (void)state;
    static const struct {
        const char *xml, *about;
    } cases[] = {
        {"<foo/>", "root element is foo"},
        {"<Envelope/>", "root element"},
        {"<s:Body xmlns:s=\"" WSMAN_NS_SOAP "\"/>", "root element is Body"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"/>", "no s:Body"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Header/></s:Envelope>", "no s:Body"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body/><s:Header/></s:Envelope>",
         "after s:Body"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Header/><s:Header/><s:Body/></s:Envelope>",
         "twice"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body/><s:Body/></s:Envelope>", "twice"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body/><s:Trailer/></s:Envelope>",
         "Trailer"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><Body/></s:Envelope>", "Body"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\">hello<s:Body/></s:Envelope>", "text"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Header>x</s:Header><s:Body/></s:Envelope>",
         "text"},
        {"<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\"><s:Body>x</s:Body></s:Envelope>", "text"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_bad(cases[i].xml, WSMAN_E_NOT_SOAP, cases[i].about);
    /* white space is no text */
    sc_arena *a = sc_arena_new();
    parse_ok(a, "<?xml version=\"1.0\"?>\n<!-- c -->\n<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP
                "\">\n <s:Header>\n </s:Header>\r\n\t<s:Body>\n</s:Body>\n</s:Envelope>\n");
    sc_arena_free(a);
}

static void test_invalid(void **state)
{
    (void)state;
    static const struct {
        const char *xml, *about;
    } cases[] = {
        {ENV("<w:SelectorSet><w:Selector>x</w:Selector></w:SelectorSet>", ""), "Name"},
        {ENV("<w:SelectorSet><w:Selector Name=\"\">x</w:Selector></w:SelectorSet>", ""),
         "empty Name"},
        {ENV("<w:SelectorSet><w:Selector w:Name=\"N\">x</w:Selector></w:SelectorSet>", ""),
         "Name"},
        {ENV("<w:SelectorSet><w:Selector Name=\"R\">text" EPR_OPEN EPR_CLOSE
             "</w:Selector></w:SelectorSet>",
             ""),
         "text beside"},
        {ENV("<w:SelectorSet><w:Selector Name=\"R\">" EPR_OPEN EPR_CLOSE EPR_OPEN EPR_CLOSE
             "</w:Selector></w:SelectorSet>",
             ""),
         "twice"},
        {ENV("<w:SelectorSet><w:Selector Name=\"R\"><b>x</b></w:Selector></w:SelectorSet>", ""),
         "a:EndpointReference"},
        {ENV("<w:SelectorSet><w:Selector Name=\"R\"><a:EndpointReference><a:Address>x"
             "</a:Address><a:Address>y</a:Address></a:EndpointReference></w:Selector>"
             "</w:SelectorSet>",
             ""),
         "a:Address appears twice"},
        {ENV("<w:SelectorSet/><w:SelectorSet/>", ""), "w:SelectorSet appears twice"},
        {ENV(ACTION(WSMAN_ACTION_GET) ACTION(WSMAN_ACTION_PULL), ""), "a:Action appears twice"},
        {ENV("<a:MessageID>1</a:MessageID><a:MessageID>2</a:MessageID>", ""), "MessageID"},
        {ENV("<w:ResourceURI>x</w:ResourceURI><w:ResourceURI>y</w:ResourceURI>", ""),
         "ResourceURI"},
        {ENV("<a:Action>x<y/></a:Action>", ""), "only text"},
        {ENV("<w:MaxEnvelopeSize>1<y/></w:MaxEnvelopeSize>", ""), "only text"},
        {ENV("", "<n:Enumerate/><n:Enumerate/>"), "more than one element"},
        {ENV("", "<n:Pull><n:EnumerationContext>1</n:EnumerationContext>"
                 "<n:EnumerationContext>2</n:EnumerationContext></n:Pull>"),
         "EnumerationContext"},
        {ENV("", "<n:Enumerate><w:MaxElements>1</w:MaxElements><n:MaxElements>2"
                 "</n:MaxElements></n:Enumerate>"),
         "MaxElements"},
        {ENV("", "<n:Enumerate><w:Filter>a</w:Filter><n:Filter>b</n:Filter></n:Enumerate>"),
         "Filter appears twice"},
        {ENUM_FILTER(WSMAN_DIALECT_WQL, "SELECT <b:x/>"), "WQL filter"},
        {ENUM_FILTER(WSMAN_DIALECT_ASSOC, ""), "neither"},
        {ENUM_FILTER(WSMAN_DIALECT_ASSOC, "<b:Other/>"), "neither"},
        {ENUM_FILTER(WSMAN_DIALECT_ASSOC, "<b:AssociatedInstances/><b:AssociationInstances/>"),
         "twice"},
        {ENUM_FILTER(WSMAN_DIALECT_ASSOC, "x<b:AssociatedInstances/>"), "text"},
        {ENUM_FILTER(WSMAN_DIALECT_ASSOC,
                     "<b:AssociatedInstances>" ASSOC_OBJECT ASSOC_OBJECT "</b:AssociatedInstances>"),
         "b:Object appears twice"},
        {ENUM_FILTER(WSMAN_DIALECT_ASSOC, "<b:AssociatedInstances><b:Role>a</b:Role><b:Role>b"
                                          "</b:Role></b:AssociatedInstances>"),
         "b:Role appears twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        parse_bad(cases[i].xml, WSMAN_E_INVALID, cases[i].about);
}

/* The position: line and 1-based column of the offending tag. */
static void test_positions(void **state)
{
    (void)state;
    wsman_parse_error err;
    wsman_request *r;
    sc_arena *a = sc_arena_new();
    static const char xml[] = "<s:Envelope" NS_DECLS ">\n"
                              "<s:Header>\n"
                              "<w:SelectorSet><w:Selector>x</w:Selector></w:SelectorSet>\n"
                              "</s:Header><s:Body/></s:Envelope>";
    assert_int_equal(wsman_parse_request(a, xml, strlen(xml), &r, &err), WSMAN_E_INVALID);
    assert_string_equal(err.msg, "line 3, column 16: a w:Selector without a Name attribute");
    static const char xml2[] = "<s:Envelope xmlns:s=\"" WSMAN_NS_SOAP "\">\n"
                               "  <s:Header/>\n"
                               "</s:Envelope>";
    assert_int_equal(wsman_parse_request(a, xml2, strlen(xml2), &r, &err), WSMAN_E_NOT_SOAP);
    assert_string_equal(err.msg, "line 3, column 1: the s:Envelope has no s:Body");
    static const char xml3[] = "\n\n  <a>";
    assert_int_equal(wsman_parse_request(a, xml3, strlen(xml3), &r, &err), WSMAN_E_NOT_SOAP);
    assert_memory_equal(err.msg, "line 3, column 3: ", 18);
    /* err may be NULL */
    assert_int_equal(wsman_parse_request(a, xml3, strlen(xml3), &r, NULL), WSMAN_E_NOT_SOAP);
    assert_null(r);
    sc_arena_free(a);
}

/* Messages quote names cut to a length, never in the middle of a UTF-8
 * sequence (they end up in fault responses). */
static bool valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3
                 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0)
            return false;
        for (size_t i = 1; i < n; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += n;
    }
    return true;
}

static void test_messages_utf8(void **state)
{
    (void)state;
    /* 30 x U+20AC (3 bytes): any cut at 64 or 40 bytes splits one */
#define EUROS30                                                                           \
    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" \
    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" \
    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac" \
    "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
    static const char *const cases[] = {
        "<" EUROS30 "/>",
        "<x" EUROS30 "/>",
        ENV("<w:SelectorSet><w:Selector Name=\"" EUROS30 "\"><x" EUROS30 "/></w:Selector>"
            "</w:SelectorSet>",
            ""),
        ENV("<w:MaxEnvelopeSize>" EUROS30 "</w:MaxEnvelopeSize>", ""),
        ENV("<w:MaxEnvelopeSize>1" EUROS30 "</w:MaxEnvelopeSize>", ""),
        ENV("<w:MaxEnvelopeSize>12" EUROS30 "</w:MaxEnvelopeSize>", ""),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_arena *a = sc_arena_new();
        wsman_request *r;
        wsman_parse_error err;
        assert_int_not_equal(wsman_parse_request(a, cases[i], strlen(cases[i]), &r, &err),
                             WSMAN_OK);
        assert_memory_equal(err.msg, "line ", 5);
        if (!valid_utf8(err.msg))
            fail_msg("case %zu: message not UTF-8: %s", i, err.msg);
        sc_arena_free(a);
    }
#undef EUROS30
}

/* ---- limits ------------------------------------------------------------------- */

/* An Enumerate whose header holds `inner` (built at run time). */
static char *with_header(const char *inner)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "<s:Envelope" NS_DECLS "><s:Header>" ACTION(WSMAN_ACTION_GET));
    sc_buf_puts(&b, inner);
    sc_buf_puts(&b, "</s:Header><s:Body/></s:Envelope>");
    return sc_buf_take(&b);
}

static void check_with_header(const sc_buf *inner, wsman_parse_status want)
{
    char *xml = with_header(inner->data ? inner->data : "");
    if (want == WSMAN_OK) {
        sc_arena *a = sc_arena_new();
        parse_ok(a, xml);
        sc_arena_free(a);
    } else {
        parse_bad(xml, want, NULL);
    }
    free(xml);
}

static void test_depth(void **state)
{
    (void)state;
    /* Envelope, Header, then n nested elements: 32 levels pass, 33 do not */
    size_t counts[] = {30, 31, 100000};
    wsman_parse_status want[] = {WSMAN_OK, WSMAN_E_LIMIT, WSMAN_E_LIMIT};
    for (size_t k = 0; k < 3; k++) {
        sc_buf in;
        sc_buf_init(&in);
        for (size_t i = 0; i < counts[k]; i++)
            sc_buf_puts(&in, "<d>");
        for (size_t i = 0; i < counts[k]; i++)
            sc_buf_puts(&in, "</d>");
        check_with_header(&in, want[k]);
        sc_buf_free(&in);
    }
    /* refused as deep before the missing end tags are noticed */
    sc_buf in;
    sc_buf_init(&in);
    for (int i = 0; i < 31; i++)
        sc_buf_puts(&in, "<d>");
    char *xml = with_header(in.data);
    sc_buf_free(&in);
    parse_bad(xml, WSMAN_E_LIMIT, "deeper than 32");
    free(xml);
}

static void test_element_count(void **state)
{
    (void)state;
    /* Envelope, Header, Action, Body: 4 + n */
    size_t counts[] = {WSMAN_MAX_ELEMENTS - 4, WSMAN_MAX_ELEMENTS - 3, 50000};
    wsman_parse_status want[] = {WSMAN_OK, WSMAN_E_LIMIT, WSMAN_E_LIMIT};
    for (size_t k = 0; k < 3; k++) {
        sc_buf in;
        sc_buf_init(&in);
        for (size_t i = 0; i < counts[k]; i++)
            sc_buf_puts(&in, "<e/>");
        check_with_header(&in, want[k]);
        sc_buf_free(&in);
    }
}

static void test_text_limit(void **state)
{
    (void)state;
    static const char *const wraps[][2] = {
        {"<ignored>", "</ignored>"},                   /* text not kept */
        {"<a:MessageID>", "</a:MessageID>"},           /* text kept */
        {"<w:SelectorSet><w:Selector Name=\"N\">", "</w:Selector></w:SelectorSet>"},
    };
    for (size_t w = 0; w < 3; w++) {
        for (size_t n = WSMAN_MAX_TEXT - 1; n <= WSMAN_MAX_TEXT + 1; n++) {
            sc_buf in;
            sc_buf_init(&in);
            sc_buf_puts(&in, wraps[w][0]);
            /* half as references: the limit counts the text, not the bytes */
            for (size_t i = 0; i < n; i++)
                sc_buf_puts(&in, i % 2 ? "&amp;" : "x");
            sc_buf_puts(&in, wraps[w][1]);
            check_with_header(&in, n <= WSMAN_MAX_TEXT ? WSMAN_OK : WSMAN_E_LIMIT);
            sc_buf_free(&in);
        }
    }
    /* text split by children counts per element: two 40 KiB runs are fine */
    sc_buf in;
    sc_buf_init(&in);
    sc_buf_puts(&in, "<ignored>");
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 40000; i++)
            sc_buf_putc(&in, 'y');
        sc_buf_puts(&in, "<c>z</c>");
    }
    sc_buf_puts(&in, "</ignored>");
    check_with_header(&in, WSMAN_E_LIMIT); /* 80,000 bytes directly in one element */
    sc_buf_reset(&in);
    sc_buf_puts(&in, "<ignored>");
    for (int k = 0; k < 2; k++) {
        sc_buf_puts(&in, "<c>");
        for (int i = 0; i < 40000; i++)
            sc_buf_putc(&in, 'y');
        sc_buf_puts(&in, "</c>");
    }
    sc_buf_puts(&in, "</ignored>");
    check_with_header(&in, WSMAN_OK);
    sc_buf_free(&in);
}

static void test_selector_limit(void **state)
{
    (void)state;
    for (int n = WSMAN_MAX_SELECTORS; n <= WSMAN_MAX_SELECTORS + 1; n++) {
        sc_buf in;
        sc_buf_init(&in);
        sc_buf_puts(&in, "<w:SelectorSet>");
        for (int i = 0; i < n; i++)
            sc_buf_printf(&in, "<w:Selector Name=\"K%d\">v%d</w:Selector>", i, i);
        sc_buf_puts(&in, "</w:SelectorSet>");
        char *xml = with_header(in.data);
        if (n <= WSMAN_MAX_SELECTORS) {
            sc_arena *a = sc_arena_new();
            wsman_request *r = parse_ok(a, xml);
            assert_int_equal(r->nselectors, n);
            assert_string_equal(r->selectors[n - 1].name, "K31");
            assert_string_equal(r->selectors[n - 1].value, "v31");
            sc_arena_free(a);
        } else {
            parse_bad(xml, WSMAN_E_LIMIT, "selectors");
        }
        free(xml);
        sc_buf_free(&in);
    }
    /* the limit is per set: 32 in the header and 32 in an EPR */
    sc_buf in;
    sc_buf_init(&in);
    sc_buf_puts(&in, "<w:SelectorSet><w:Selector Name=\"R\">" EPR_OPEN "<w:SelectorSet>");
    for (int i = 0; i < WSMAN_MAX_SELECTORS; i++)
        sc_buf_printf(&in, "<w:Selector Name=\"I%d\">v</w:Selector>", i);
    sc_buf_puts(&in, "</w:SelectorSet>" EPR_CLOSE "</w:Selector>");
    for (int i = 1; i < WSMAN_MAX_SELECTORS; i++)
        sc_buf_printf(&in, "<w:Selector Name=\"O%d\">v</w:Selector>", i);
    sc_buf_puts(&in, "</w:SelectorSet>");
    check_with_header(&in, WSMAN_OK);
    sc_buf_free(&in);
}

static void test_epr_depth(void **state)
{
    (void)state;
    for (int depth = 1; depth <= WSMAN_MAX_EPR_DEPTH + 1; depth++) {
        sc_buf in;
        sc_buf_init(&in);
        sc_buf_puts(&in, "<w:SelectorSet>");
        for (int i = 0; i < depth; i++)
            sc_buf_printf(&in, "<w:Selector Name=\"L%d\">" EPR_OPEN "<w:SelectorSet>", i);
        sc_buf_puts(&in, "<w:Selector Name=\"Leaf\">x</w:Selector>");
        for (int i = 0; i < depth; i++)
            sc_buf_puts(&in, "</w:SelectorSet>" EPR_CLOSE "</w:Selector>");
        sc_buf_puts(&in, "</w:SelectorSet>");
        char *xml = with_header(in.data);
        if (depth <= WSMAN_MAX_EPR_DEPTH) {
            sc_arena *a = sc_arena_new();
            wsman_request *r = parse_ok(a, xml);
            const wsman_selector *s = &r->selectors[0];
            for (int i = 0; i < depth; i++) {
                assert_non_null(s->epr);
                assert_int_equal(s->epr->nselectors, 1);
                s = &s->epr->selectors[0];
            }
            assert_string_equal(s->name, "Leaf");
            assert_string_equal(s->value, "x");
            sc_arena_free(a);
        } else {
            parse_bad(xml, WSMAN_E_LIMIT, "endpoint references nested");
        }
        free(xml);
        sc_buf_free(&in);
    }
    /* b:Object is the first level */
    sc_buf in;
    sc_buf_init(&in);
    sc_buf_puts(&in, "<b:Object><a:ReferenceParameters><w:SelectorSet>");
    for (int i = 1; i < WSMAN_MAX_EPR_DEPTH + 1; i++)
        sc_buf_printf(&in, "<w:Selector Name=\"L%d\">" EPR_OPEN "<w:SelectorSet>", i);
    for (int i = 1; i < WSMAN_MAX_EPR_DEPTH + 1; i++)
        sc_buf_puts(&in, "</w:SelectorSet>" EPR_CLOSE "</w:Selector>");
    sc_buf_puts(&in, "</w:SelectorSet></a:ReferenceParameters></b:Object>");
    char *xml = sc_xmalloc(in.len + 2048);
    snprintf(xml, in.len + 2048,
             ENUM_FILTER(WSMAN_DIALECT_ASSOC, "<b:AssociatedInstances>%s</b:AssociatedInstances>"),
             in.data);
    parse_bad(xml, WSMAN_E_LIMIT, "endpoint references nested");
    free(xml);
    sc_buf_free(&in);
}

static void test_too_large(void **state)
{
    (void)state;
    /* refused before expat reads a byte (the buffer is never touched) */
    static const char tiny[] = "<x/>";
    parse_bad_len(tiny, (size_t)INT_MAX + 1, WSMAN_E_LIMIT, "too large");
}

/* Every prefix of a valid request: never a crash, a status with a message,
 * and the whole one parses. */
static void test_truncations(void **state)
{
    (void)state;
    const char *const bodies[] = {windows_enumerate, assoc_cases[0].xml};
    for (size_t k = 0; k < 2; k++) {
        size_t n = strlen(bodies[k]);
        size_t closed = (size_t)(strstr(bodies[k], "</s:Envelope>") - bodies[k]) + 13;
        for (size_t len = 0; len <= n; len++) {
            char *copy = sc_xmalloc(len ? len : 1); /* exactly len bytes: ASan/valgrind see overreads */
            memcpy(copy, bodies[k], len);
            sc_arena *a = sc_arena_new();
            wsman_request *r = (wsman_request *)(uintptr_t)1;
            wsman_parse_error err;
            wsman_parse_status st = wsman_parse_request(a, copy, len, &r, &err);
            assert_int_equal(st, err.status);
            if (st == WSMAN_OK) {
                assert_non_null(r);
                assert_true(len >= closed); /* only once the Envelope is closed */
            } else {
                assert_null(r);
                if (strncmp(err.msg, "line ", 5) != 0)
                    fail_msg("prefix %zu: %s", len, err.msg);
            }
            if (len == n)
                assert_int_equal(st, WSMAN_OK);
            sc_arena_free(a);
            free(copy);
        }
    }
}

/* The errors leave nothing behind: one arena used for many refusals. */
static void test_arena_reuse(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    for (int i = 0; i < 50; i++) {
        wsman_request *r;
        wsman_parse_error err;
        assert_int_equal(wsman_parse_request(a, "<x/>", 4, &r, &err), WSMAN_E_NOT_SOAP);
        r = parse_ok(a, windows_enumerate);
        assert_int_equal(r->action, WSMAN_A_ENUMERATE);
    }
    sc_arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_enumerate),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_no_pointers_into_input),
        cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_prefix_is_not_namespace),
        cmocka_unit_test(test_identify),
        cmocka_unit_test(test_pull),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_other_action),
        cmocka_unit_test(test_get_selectors),
        cmocka_unit_test(test_get_ref_selector),
        cmocka_unit_test(test_assoc_filter),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_enumerate_options),
        cmocka_unit_test(test_must_understand),
        cmocka_unit_test(test_max_envelope),
        cmocka_unit_test(test_dtd_and_entities),
        cmocka_unit_test(test_not_xml),
        cmocka_unit_test(test_not_soap),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_messages_utf8),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_element_count),
        cmocka_unit_test(test_text_limit),
        cmocka_unit_test(test_selector_limit),
        cmocka_unit_test(test_epr_depth),
        cmocka_unit_test(test_too_large),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_arena_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
