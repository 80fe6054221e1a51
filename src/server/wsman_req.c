/*
 * wsman_req.c - the WS-Management request parser (contract: wsman.h).
 *
 * One pass over expat's events, no element tree: expat runs in namespace
 * mode (element and attribute names arrive as "URI<SEP>local", or just
 * "local" when unqualified), so every comparison is by namespace URI and
 * never by prefix.  A stack of frames, one per open element, says what each
 * element means where it stands (an s:Header child, a w:Selector, the
 * a:Address of an endpoint reference, ...); only the elements whose text we
 * keep collect it, the others just count it against WSMAN_MAX_TEXT.
 * Elements we do not interpret are read and dropped with their subtree.
 *
 * Hardening (as cimxml_req.c): a DOCTYPE or an entity declaration stops the
 * parse (WSMAN_E_NOT_XML), external parameter entities are never read, and
 * nesting, element count, selectors per set, endpoint-reference nesting and
 * text per element are bounded (WSMAN_E_LIMIT).  Every message begins with
 * "line L, column C: ", the place expat was at (column 1-based).
 */
#include "server/wsman.h"
#include "server/xml_int.h"

#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Between namespace URI and local name in expat's names.  XML cannot carry
 * U+0001 (not even as a character reference), so no URI contains it. */
#define SEP '\x01'

#define ROLE_NEXT "http://www.w3.org/2003/05/soap-envelope/role/next"
#define ROLE_ULTIMATE "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"

/* What an open element is. */
typedef enum kind {
    K_SKIP,         /* not interpreted: its subtree is read and dropped */
    K_ENVELOPE,
    K_HEADER,
    K_BODY,
    K_ACTION,       /* a:Action */
    K_TEXT,         /* a value kept trimmed in *dst */
    K_MAX_ENVELOPE, /* w:MaxEnvelopeSize */
    K_SELSET,       /* w:SelectorSet (header or EPR) */
    K_SELECTOR,     /* w:Selector */
    K_EPR,          /* a:EndpointReference in a selector, or b:Object */
    K_REFPARAMS,    /* a:ReferenceParameters */
    K_IDENTIFY,     /* wsmid:Identify (contents ignored) */
    K_ENUMERATE,
    K_PULL,
    K_RELEASE,
    K_OPTIMIZE,     /* w:OptimizeEnumeration (contents ignored) */
    K_MAX_ELEMENTS, /* w:MaxElements, n:MaxElements */
    K_MODE,         /* w:EnumerationMode */
    K_FILTER_TEXT,  /* a WQL filter (or one without Dialect, so far text) */
    K_FILTER_ASSOC, /* the association filter */
    K_ASSOC,        /* b:AssociatedInstances, b:AssociationInstances */
    K_OPTSET,       /* w:OptionSet */
    K_OPTION,       /* w:Option */
} kind;

/* Children that may appear once in their parent (a bit each in seen). */
enum slot {
    S_HEADER,
    S_BODY,
    S_ACTION,
    S_MESSAGE_ID,
    S_RESOURCE_URI,
    S_SELECTORS,
    S_MAX_ENVELOPE,
    S_TIMEOUT,
    S_EPR,
    S_ADDRESS,
    S_REFPARAMS,
    S_OPTIMIZE,
    S_MAX_ELEMENTS,
    S_MODE,
    S_FILTER,
    S_CONTEXT,
    S_ASSOC,
    S_OBJECT,
    S_ASSOC_CLASS,
    S_RESULT_CLASS,
    S_ROLE,
    S_RESULT_ROLE,
    S_OPTIONS,
};

typedef struct frame {
    kind k;
    bool keep;            /* its text is collected in text[depth] */
    bool nonws;           /* it has text other than white space */
    bool dialect_given;   /* K_FILTER_TEXT: a Dialect attribute named WQL */
    size_t textlen;       /* bytes of its own text so far */
    uint32_t seen;        /* the slots of the children met */
    unsigned nchildren;   /* element children met */
    const char **dst;     /* K_TEXT: where the trimmed text goes */
    wsman_epr *epr;       /* K_EPR, K_REFPARAMS: the EPR; K_SELECTOR: its EPR */
    int epr_depth;        /* EPRs around (K_EPR: its own level) */
    const char *name;     /* K_SELECTOR, K_OPTION: the Name */
    bool must_comply;     /* K_OPTION: MustComply="true" */
    /* K_SELSET: the selectors so far and where they go at the end. */
    wsman_selector *sel;
    size_t nsel, cap;
    const wsman_selector **sel_out;
    size_t *nsel_out;
} frame;

typedef struct parser {
    sc_arena *a;
    XML_Parser p;
    wsman_request *req;
    wsman_parse_error *err;
    bool failed;
    int depth;            /* open elements */
    size_t nelems;
    frame st[WSMAN_MAX_DEPTH];
    sc_buf text[WSMAN_MAX_DEPTH];
    wsman_option *opts;   /* the w:OptionSet's, WSMAN_MAX_OPTIONS at most */
    size_t nopts;
} parser;

/* ---- positions and errors ------------------------------------------------ */

/* Drops the UTF-8 sequences that a precision ("%.64s") or the size of msg
 * cut short: the message goes into fault responses, which must stay
 * well-formed.  (What it quotes came from expat, so is otherwise valid.) */
static void utf8_tidy(char *s)
{
    unsigned char *r = (unsigned char *)s, *w = r;
    while (*r) {
        unsigned c = *r;
        size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 0;
        size_t i = 1;
        while (i < n && (r[i] & 0xC0) == 0x80)
            i++;
        if (n == 0 || i < n) {
            r += i; /* a stray or incomplete sequence */
            continue;
        }
        memmove(w, r, n);
        w += n;
        r += n;
    }
    *w = '\0';
}

static void set_err(wsman_parse_error *err, wsman_parse_status st, unsigned line,
                    unsigned col, const char *fmt, va_list ap)
{
    err->status = st;
    int n = snprintf(err->msg, sizeof err->msg, "line %u, column %u: ", line, col);
    if (n < 0 || (size_t)n >= sizeof err->msg)
        return;
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
    utf8_tidy(err->msg);
}

/* Stops the parse with the first error (later ones are dropped: expat may
 * still deliver a few events after XML_StopParser).  Returns false. */
static bool fail(parser *b, wsman_parse_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(parser *b, wsman_parse_status st, const char *fmt, ...)
{
    if (b->failed)
        return false;
    b->failed = true;
    va_list ap;
    va_start(ap, fmt);
    set_err(b->err, st, xml_line(b->p), xml_col(b->p), fmt, ap);
    va_end(ap);
    XML_StopParser(b->p, XML_FALSE);
    return false;
}

/* ---- names, attributes, text ---------------------------------------------- */

/* Whether expat's name is {ns}local. */
static bool is(const char *name, const char *ns, const char *local)
{
    size_t n = strlen(ns);
    return strncmp(name, ns, n) == 0 && name[n] == SEP && strcmp(name + n + 1, local) == 0;
}

/* The local part of expat's name. */
static const char *local_of(const char *name)
{
    const char *s = strchr(name, SEP);
    return s ? s + 1 : name;
}

/* An attribute's value: {ns}local, or the unqualified local when ns is
 * NULL; NULL if absent. */
static const char *attr(const char **atts, const char *ns, const char *local)
{
    for (size_t i = 0; atts[i]; i += 2) {
        if (ns ? is(atts[i], ns, local) : strcmp(atts[i], local) == 0)
            return atts[i + 1];
    }
    return NULL;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* s[0..*n) without the XML white space around it. */
static const char *trim(const char *s, size_t *n)
{
    while (*n && is_ws(s[0])) {
        s++;
        (*n)--;
    }
    while (*n && is_ws(s[*n - 1]))
        (*n)--;
    return s;
}

static bool trimmed_eq(const char *s, const char *want)
{
    size_t n = strlen(s);
    s = trim(s, &n);
    return n == strlen(want) && memcmp(s, want, n) == 0;
}

static const char *trimdup(sc_arena *a, const sc_buf *t)
{
    size_t n = t->len;
    const char *s = trim(t->data ? t->data : "", &n);
    return sc_strndup(a, s, n);
}

/* An unsigned decimal (white space around allowed), saturated at
 * UINT64_MAX; false if it is not one. */
static bool parse_u64(const sc_buf *t, uint64_t *out)
{
    size_t n = t->len;
    const char *s = trim(t->data ? t->data : "", &n);
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return true;
}

/* s:mustUnderstand is "true" or "1" and the header is meant for us (no
 * s:role, or role next or ultimateReceiver: SOAP 1.2 part 1, 5.2.2-3). */
static bool must_understand(const char **atts)
{
    const char *mu = attr(atts, WSMAN_NS_SOAP, "mustUnderstand");
    if (!mu || !(trimmed_eq(mu, "true") || trimmed_eq(mu, "1")))
        return false;
    const char *role = attr(atts, WSMAN_NS_SOAP, "role");
    return !role || trimmed_eq(role, ROLE_NEXT) || trimmed_eq(role, ROLE_ULTIMATE);
}

/* Marks a child that may appear once; a second one fails with st. */
static bool claim(parser *b, frame *up, enum slot s, wsman_parse_status st, const char *what)
{
    uint32_t bit = UINT32_C(1) << s;
    if (up->seen & bit)
        return fail(b, st, "%s appears twice", what);
    up->seen |= bit;
    return true;
}

/* ---- opening elements ----------------------------------------------------- */

static bool open_text(parser *b, frame *up, frame *f, enum slot s, const char *what,
                      const char **dst)
{
    if (!claim(b, up, s, WSMAN_E_INVALID, what))
        return false;
    f->k = K_TEXT;
    f->keep = true;
    f->dst = dst;
    return true;
}

static bool open_selset(parser *b, frame *up, frame *f, const wsman_selector **out,
                        size_t *nout, int epr_depth)
{
    if (!claim(b, up, S_SELECTORS, WSMAN_E_INVALID, "w:SelectorSet"))
        return false;
    f->k = K_SELSET;
    f->sel_out = out;
    f->nsel_out = nout;
    f->epr_depth = epr_depth;
    return true;
}

static bool open_epr(parser *b, frame *f, int epr_depth)
{
    if (epr_depth > WSMAN_MAX_EPR_DEPTH)
        return fail(b, WSMAN_E_LIMIT, "endpoint references nested deeper than %d levels",
                    WSMAN_MAX_EPR_DEPTH);
    f->k = K_EPR;
    f->epr = sc_alloc(b->a, sizeof *f->epr);
    f->epr_depth = epr_depth;
    return true;
}

static bool open_header_child(parser *b, frame *up, frame *f, const char *name,
                              const char **atts)
{
    wsman_request *r = b->req;
    f->k = K_SKIP;
    if (is(name, WSMAN_NS_ADDR, "Action")) {
        if (!claim(b, up, S_ACTION, WSMAN_E_INVALID, "a:Action"))
            return false;
        f->k = K_ACTION;
        f->keep = true;
    } else if (is(name, WSMAN_NS_ADDR, "MessageID")) {
        return open_text(b, up, f, S_MESSAGE_ID, "a:MessageID", &r->message_id);
    } else if (is(name, WSMAN_NS_WSMAN, "ResourceURI")) {
        return open_text(b, up, f, S_RESOURCE_URI, "w:ResourceURI", &r->resource_uri);
    } else if (is(name, WSMAN_NS_WSMAN, "OperationTimeout")) {
        return open_text(b, up, f, S_TIMEOUT, "w:OperationTimeout", &r->operation_timeout);
    } else if (is(name, WSMAN_NS_WSMAN, "SelectorSet")) {
        return open_selset(b, up, f, &r->selectors, &r->nselectors, 0);
    } else if (is(name, WSMAN_NS_WSMAN, "MaxEnvelopeSize")) {
        if (!claim(b, up, S_MAX_ENVELOPE, WSMAN_E_INVALID, "w:MaxEnvelopeSize"))
            return false;
        f->k = K_MAX_ENVELOPE;
        f->keep = true;
    } else if (is(name, WSMAN_NS_WSMAN, "OptionSet")) {
        if (!claim(b, up, S_OPTIONS, WSMAN_E_INVALID, "w:OptionSet"))
            return false;
        f->k = K_OPTSET;
        b->opts = sc_alloc_array(b->a, WSMAN_MAX_OPTIONS, sizeof *b->opts);
    } else if (is(name, WSMAN_NS_MSWSMAN, "DataLocale")) {
        if (must_understand(atts))
            r->data_locale_must = true;
    } else if (is(name, WSMAN_NS_ADDR, "To") || is(name, WSMAN_NS_ADDR, "ReplyTo") ||
               is(name, WSMAN_NS_WSMAN, "Locale") ||
               is(name, WSMAN_NS_MSWSMAN, "SessionId") ||
               is(name, WSMAN_NS_MSWSMAN, "ActivityId") ||
               is(name, WSMAN_NS_MSWSMAN, "OperationID") ||
               is(name, WSMAN_NS_MSWSMAN, "SequenceId")) {
        /* understood, and nothing in them matters */
    } else if (!r->not_understood_name && must_understand(atts)) {
        const char *s = strchr(name, SEP);
        r->not_understood_ns = s ? sc_strndup(b->a, name, (size_t)(s - name)) : "";
        r->not_understood_name = sc_strdup(b->a, s ? s + 1 : name);
    }
    return true;
}

static bool open_filter(parser *b, frame *up, frame *f, const char **atts)
{
    wsman_request *r = b->req;
    if (!claim(b, up, S_FILTER, WSMAN_E_INVALID, "the Filter"))
        return false;
    const char *d = attr(atts, NULL, "Dialect");
    if (!d) {
        /* no dialect: WQL if it holds text (see open_element) */
        r->filter = WSMAN_F_WQL;
        f->k = K_FILTER_TEXT;
        f->keep = true;
        return true;
    }
    size_t n = strlen(d);
    d = trim(d, &n);
    r->filter_dialect = sc_strndup(b->a, d, n);
    if (sc_streqi(r->filter_dialect, WSMAN_DIALECT_WQL)) {
        r->filter = WSMAN_F_WQL;
        f->k = K_FILTER_TEXT;
        f->keep = true;
        f->dialect_given = true;
    } else if (sc_streqi(r->filter_dialect, WSMAN_DIALECT_ASSOC)) {
        f->k = K_FILTER_ASSOC;
    } else {
        r->filter = WSMAN_F_OTHER;
        f->k = K_SKIP;
    }
    return true;
}

static bool open_assoc_child(parser *b, frame *up, frame *f, const char *name)
{
    wsman_request *r = b->req;
    f->k = K_SKIP;
    if (is(name, WSMAN_NS_CIMBINDING, "Object")) {
        if (!claim(b, up, S_OBJECT, WSMAN_E_INVALID, "b:Object") || !open_epr(b, f, 1))
            return false;
        r->assoc_object = f->epr;
    } else if (is(name, WSMAN_NS_CIMBINDING, "AssociationClassName")) {
        return open_text(b, up, f, S_ASSOC_CLASS, "b:AssociationClassName", &r->assoc_class);
    } else if (is(name, WSMAN_NS_CIMBINDING, "ResultClassName")) {
        return open_text(b, up, f, S_RESULT_CLASS, "b:ResultClassName", &r->result_class);
    } else if (is(name, WSMAN_NS_CIMBINDING, "Role")) {
        return open_text(b, up, f, S_ROLE, "b:Role", &r->role);
    } else if (is(name, WSMAN_NS_CIMBINDING, "ResultRole")) {
        return open_text(b, up, f, S_RESULT_ROLE, "b:ResultRole", &r->result_role);
    }
    return true;
}

static bool open_body_child(parser *b, frame *up, frame *f, const char *name)
{
    wsman_request *r = b->req;
    r->has_body_element = true;
    if (up->nchildren > 1)
        return fail(b, WSMAN_E_INVALID, "the s:Body holds more than one element (%.64s)",
                    local_of(name));
    f->k = K_SKIP; /* an operation we do not know: the Action decides */
    if (is(name, WSMAN_NS_IDENTITY, "Identify")) {
        r->identify = true;
        f->k = K_IDENTIFY;
    } else if (is(name, WSMAN_NS_ENUM, "Enumerate")) {
        f->k = K_ENUMERATE;
    } else if (is(name, WSMAN_NS_ENUM, "Pull")) {
        f->k = K_PULL;
    } else if (is(name, WSMAN_NS_ENUM, "Release")) {
        f->k = K_RELEASE;
    }
    return true;
}

/* Sets up f for the element `name` inside up (NULL for the root). */
static bool open_element(parser *b, frame *up, frame *f, const char *name, const char **atts)
{
    wsman_request *r = b->req;
    if (!up) {
        if (!is(name, WSMAN_NS_SOAP, "Envelope"))
            return fail(b, WSMAN_E_NOT_SOAP,
                        "the root element is %.64s, not a SOAP 1.2 Envelope (namespace "
                        WSMAN_NS_SOAP ")",
                        local_of(name));
        f->k = K_ENVELOPE;
        return true;
    }
    switch (up->k) {
    case K_SKIP:
    case K_IDENTIFY:
    case K_OPTIMIZE:
        f->k = K_SKIP;
        return true;
    case K_ACTION:
    case K_TEXT:
    case K_MAX_ENVELOPE:
    case K_MAX_ELEMENTS:
    case K_MODE:
        return fail(b, WSMAN_E_INVALID, "an element (%.64s) where only text is expected",
                    local_of(name));
    case K_FILTER_TEXT:
        if (up->dialect_given)
            return fail(b, WSMAN_E_INVALID,
                        "an element (%.64s) in a WQL filter, which holds the query text only",
                        local_of(name));
        /* a Filter without Dialect that holds elements: not WQL, not ours */
        r->filter = WSMAN_F_OTHER;
        up->k = K_SKIP;
        up->keep = false;
        f->k = K_SKIP;
        return true;
    case K_ENVELOPE:
        if (is(name, WSMAN_NS_SOAP, "Header")) {
            if (up->seen & (UINT32_C(1) << S_BODY))
                return fail(b, WSMAN_E_NOT_SOAP, "s:Header after s:Body");
            f->k = K_HEADER;
            return claim(b, up, S_HEADER, WSMAN_E_NOT_SOAP, "s:Header");
        }
        if (is(name, WSMAN_NS_SOAP, "Body")) {
            f->k = K_BODY;
            return claim(b, up, S_BODY, WSMAN_E_NOT_SOAP, "s:Body");
        }
        return fail(b, WSMAN_E_NOT_SOAP,
                    "%.64s in the s:Envelope, which holds s:Header and s:Body only",
                    local_of(name));
    case K_HEADER:
        return open_header_child(b, up, f, name, atts);
    case K_BODY:
        return open_body_child(b, up, f, name);
    case K_SELSET:
        if (!is(name, WSMAN_NS_WSMAN, "Selector")) {
            f->k = K_SKIP;
            return true;
        }
        if (up->nsel >= WSMAN_MAX_SELECTORS)
            return fail(b, WSMAN_E_LIMIT, "more than %d selectors in one w:SelectorSet",
                        WSMAN_MAX_SELECTORS);
        {
            const char *n = attr(atts, NULL, "Name");
            if (!n)
                return fail(b, WSMAN_E_INVALID, "a w:Selector without a Name attribute");
            size_t len = strlen(n);
            n = trim(n, &len);
            if (len == 0)
                return fail(b, WSMAN_E_INVALID, "a w:Selector with an empty Name");
            f->name = sc_strndup(b->a, n, len);
        }
        f->k = K_SELECTOR;
        f->keep = true;
        f->epr_depth = up->epr_depth;
        return true;
    case K_SELECTOR:
        if (!is(name, WSMAN_NS_ADDR, "EndpointReference"))
            return fail(b, WSMAN_E_INVALID,
                        "%.64s in the w:Selector %.64s, which holds text or one "
                        "a:EndpointReference",
                        local_of(name), up->name);
        if (!claim(b, up, S_EPR, WSMAN_E_INVALID, "a:EndpointReference in one w:Selector") ||
            !open_epr(b, f, up->epr_depth + 1))
            return false;
        up->epr = f->epr;
        return true;
    case K_EPR:
        f->k = K_SKIP;
        if (is(name, WSMAN_NS_ADDR, "Address"))
            return open_text(b, up, f, S_ADDRESS, "a:Address", &up->epr->address);
        if (is(name, WSMAN_NS_ADDR, "ReferenceParameters")) {
            f->k = K_REFPARAMS;
            f->epr = up->epr;
            f->epr_depth = up->epr_depth;
            return claim(b, up, S_REFPARAMS, WSMAN_E_INVALID, "a:ReferenceParameters");
        }
        return true;
    case K_REFPARAMS:
        f->k = K_SKIP;
        if (is(name, WSMAN_NS_WSMAN, "ResourceURI"))
            return open_text(b, up, f, S_RESOURCE_URI, "w:ResourceURI",
                             &up->epr->resource_uri);
        if (is(name, WSMAN_NS_WSMAN, "SelectorSet"))
            return open_selset(b, up, f, &up->epr->selectors, &up->epr->nselectors,
                               up->epr_depth);
        return true;
    case K_ENUMERATE:
        f->k = K_SKIP; /* b:PolymorphismMode and the like */
        if (is(name, WSMAN_NS_WSMAN, "OptimizeEnumeration")) {
            r->optimize = true;
            f->k = K_OPTIMIZE;
            return claim(b, up, S_OPTIMIZE, WSMAN_E_INVALID, "w:OptimizeEnumeration");
        }
        if (is(name, WSMAN_NS_WSMAN, "MaxElements") || is(name, WSMAN_NS_ENUM, "MaxElements")) {
            f->k = K_MAX_ELEMENTS;
            f->keep = true;
            return claim(b, up, S_MAX_ELEMENTS, WSMAN_E_INVALID, "MaxElements");
        }
        if (is(name, WSMAN_NS_WSMAN, "EnumerationMode")) {
            f->k = K_MODE;
            f->keep = true;
            return claim(b, up, S_MODE, WSMAN_E_INVALID, "w:EnumerationMode");
        }
        if (is(name, WSMAN_NS_WSMAN, "Filter") || is(name, WSMAN_NS_ENUM, "Filter"))
            return open_filter(b, up, f, atts);
        return true;
    case K_PULL:
    case K_RELEASE:
        f->k = K_SKIP; /* n:MaxTime, n:MaxCharacters, w:OptimizeEnumeration, ... */
        if (is(name, WSMAN_NS_ENUM, "EnumerationContext"))
            return open_text(b, up, f, S_CONTEXT, "n:EnumerationContext", &r->context);
        if (up->k == K_PULL && is(name, WSMAN_NS_ENUM, "MaxElements")) {
            f->k = K_MAX_ELEMENTS;
            f->keep = true;
            return claim(b, up, S_MAX_ELEMENTS, WSMAN_E_INVALID, "n:MaxElements");
        }
        return true;
    case K_FILTER_ASSOC:
        f->k = K_SKIP;
        if (is(name, WSMAN_NS_CIMBINDING, "AssociatedInstances") ||
            is(name, WSMAN_NS_CIMBINDING, "AssociationInstances")) {
            f->k = K_ASSOC;
            r->filter = strcmp(local_of(name), "AssociatedInstances") == 0
                            ? WSMAN_F_ASSOCIATED
                            : WSMAN_F_ASSOCIATION;
            return claim(b, up, S_ASSOC, WSMAN_E_INVALID,
                         "b:AssociatedInstances or b:AssociationInstances");
        }
        return true;
    case K_ASSOC:
        return open_assoc_child(b, up, f, name);
    case K_OPTSET:
        f->k = K_SKIP;
        if (!is(name, WSMAN_NS_WSMAN, "Option"))
            return true;
        if (b->nopts >= WSMAN_MAX_OPTIONS)
            return fail(b, WSMAN_E_LIMIT, "more than %d options in the w:OptionSet",
                        WSMAN_MAX_OPTIONS);
        {
            const char *n = attr(atts, NULL, "Name");
            size_t len = n ? strlen(n) : 0;
            n = n ? trim(n, &len) : NULL;
            if (!n || len == 0)
                return fail(b, WSMAN_E_INVALID, "a w:Option without a Name");
            f->name = sc_strndup(b->a, n, len);
            const char *mc = attr(atts, NULL, "MustComply");
            if (mc) {
                size_t ml = strlen(mc);
                mc = trim(mc, &ml);
                f->must_comply = (ml == 4 && strncmp(mc, "true", 4) == 0) ||
                                 (ml == 1 && mc[0] == '1');
            }
        }
        f->k = K_OPTION;
        f->keep = true;
        return true;
    case K_OPTION:
        return fail(b, WSMAN_E_INVALID, "%.64s in the w:Option %.64s, which holds text only",
                    local_of(name), up->name);
    }
    f->k = K_SKIP;
    return true;
}

/* ---- closing elements ----------------------------------------------------- */

static bool add_selector(parser *b, frame *set, const frame *f, const sc_buf *t)
{
    wsman_selector s = {.name = f->name};
    if (f->epr) {
        if (f->nonws)
            return fail(b, WSMAN_E_INVALID,
                        "text beside the a:EndpointReference in the w:Selector %.64s",
                        f->name);
        s.epr = f->epr;
    } else {
        s.value = sc_strndup(b->a, t->data ? t->data : "", t->len);
    }
    if (set->nsel == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 4;
        if (cap > WSMAN_MAX_SELECTORS)
            cap = WSMAN_MAX_SELECTORS;
        wsman_selector *v = sc_alloc_array(b->a, cap, sizeof *v);
        if (set->nsel)
            memcpy(v, set->sel, set->nsel * sizeof *v);
        set->sel = v;
        set->cap = cap;
    }
    set->sel[set->nsel++] = s;
    return true;
}

static bool close_element(parser *b, frame *f, frame *up, const sc_buf *t)
{
    wsman_request *r = b->req;
    switch (f->k) {
    case K_ENVELOPE:
        if (f->nonws)
            return fail(b, WSMAN_E_NOT_SOAP, "text in the s:Envelope");
        if (!(f->seen & (UINT32_C(1) << S_BODY)))
            return fail(b, WSMAN_E_NOT_SOAP, "the s:Envelope has no s:Body");
        return true;
    case K_HEADER:
    case K_BODY:
        if (f->nonws)
            return fail(b, WSMAN_E_NOT_SOAP, "text in the s:%s",
                        f->k == K_HEADER ? "Header" : "Body");
        return true;
    case K_ACTION:
        r->action_uri = trimdup(b->a, t);
        if (strcmp(r->action_uri, WSMAN_ACTION_GET) == 0)
            r->action = WSMAN_A_GET;
        else if (strcmp(r->action_uri, WSMAN_ACTION_ENUMERATE) == 0)
            r->action = WSMAN_A_ENUMERATE;
        else if (strcmp(r->action_uri, WSMAN_ACTION_PULL) == 0)
            r->action = WSMAN_A_PULL;
        else if (strcmp(r->action_uri, WSMAN_ACTION_RELEASE) == 0)
            r->action = WSMAN_A_RELEASE;
        else
            r->action = WSMAN_A_OTHER;
        return true;
    case K_TEXT:
        *f->dst = trimdup(b->a, t);
        return true;
    case K_MAX_ENVELOPE:
        if (!parse_u64(t, &r->max_envelope))
            return fail(b, WSMAN_E_INVALID, "w:MaxEnvelopeSize \"%.40s\" is not a number",
                        t->data ? t->data : "");
        r->has_max_envelope = true;
        return true;
    case K_MAX_ELEMENTS:
        if (parse_u64(t, &r->max_elements)) {
            r->has_max_elements = true;
            r->bad_max_elements = false;
        } else {
            r->has_max_elements = false;
            r->max_elements = 0;
            r->bad_max_elements = true;
        }
        return true;
    case K_MODE: {
        const char *m = trimdup(b->a, t);
        if (strcmp(m, "EnumerateEPR") == 0)
            r->mode = WSMAN_M_EPR;
        else if (strcmp(m, "EnumerateObjectAndEPR") == 0)
            r->mode = WSMAN_M_OBJECT_AND_EPR;
        else
            r->bad_mode = true;
        return true;
    }
    case K_SELSET:
        *f->sel_out = f->sel;
        *f->nsel_out = f->nsel;
        return true;
    case K_OPTION:
        if (t->len && memchr(t->data, '\0', t->len))
            return fail(b, WSMAN_E_INVALID, "a NUL character in the w:Option %.64s", f->name);
        b->opts[b->nopts++] = (wsman_option){f->name, trimdup(b->a, t), f->must_comply};
        return true;
    case K_OPTSET:
        r->options = b->opts;
        r->noptions = b->nopts;
        return true;
    case K_SELECTOR:
        return add_selector(b, up, f, t);
    case K_FILTER_TEXT:
        if (t->len && memchr(t->data, '\0', t->len))
            return fail(b, WSMAN_E_INVALID, "a NUL character in the WQL filter");
        r->filter_text = sc_strndup(b->a, t->data ? t->data : "", t->len);
        return true;
    case K_FILTER_ASSOC:
        if (f->nonws)
            return fail(b, WSMAN_E_INVALID, "text in the association filter");
        if (!(f->seen & (UINT32_C(1) << S_ASSOC)))
            return fail(b, WSMAN_E_INVALID,
                        "the association filter holds neither b:AssociatedInstances nor "
                        "b:AssociationInstances");
        return true;
    case K_SKIP:
    case K_EPR:
    case K_REFPARAMS:
    case K_IDENTIFY:
    case K_ENUMERATE:
    case K_PULL:
    case K_RELEASE:
    case K_OPTIMIZE:
    case K_ASSOC:
        return true;
    }
    return true;
}

/* ---- expat callbacks ------------------------------------------------------ */

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    parser *b = ud;
    if (b->failed)
        return;
    if (b->depth >= WSMAN_MAX_DEPTH) {
        fail(b, WSMAN_E_LIMIT, "elements nested deeper than %d levels", WSMAN_MAX_DEPTH);
        return;
    }
    if (++b->nelems > WSMAN_MAX_ELEMENTS) {
        fail(b, WSMAN_E_LIMIT, "more than %d elements in one request", WSMAN_MAX_ELEMENTS);
        return;
    }
    frame *up = b->depth ? &b->st[b->depth - 1] : NULL;
    frame *f = &b->st[b->depth];
    memset(f, 0, sizeof *f);
    if (up)
        up->nchildren++;
    if (!open_element(b, up, f, name, atts))
        return;
    sc_buf_reset(&b->text[b->depth]);
    b->depth++;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    parser *b = ud;
    (void)name;
    if (b->failed || b->depth == 0)
        return;
    frame *f = &b->st[b->depth - 1];
    frame *up = b->depth > 1 ? &b->st[b->depth - 2] : NULL;
    if (close_element(b, f, up, &b->text[b->depth - 1]))
        b->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    parser *b = ud;
    if (b->failed || b->depth == 0 || len <= 0)
        return;
    frame *f = &b->st[b->depth - 1];
    if ((size_t)len > WSMAN_MAX_TEXT - f->textlen) {
        fail(b, WSMAN_E_LIMIT, "more than %d bytes of text in one element", WSMAN_MAX_TEXT);
        return;
    }
    f->textlen += (size_t)len;
    for (int i = 0; !f->nonws && i < len; i++)
        if (!is_ws(s[i]))
            f->nonws = true;
    if (f->keep)
        sc_buf_add(&b->text[b->depth - 1], s, (size_t)len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    fail(ud, WSMAN_E_NOT_XML, "DOCTYPE declarations are not accepted");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_length, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_length;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    fail(ud, WSMAN_E_NOT_XML, "entity declarations are not accepted");
}

/* ---- entry point ------------------------------------------------------------ */

wsman_parse_status wsman_parse_request(sc_arena *a, const char *body, size_t len,
                                       wsman_request **out, wsman_parse_error *err)
{
    wsman_parse_error spare;
    if (!err)
        err = &spare;
    memset(err, 0, sizeof *err);
    *out = NULL;
    if (len > (size_t)INT_MAX) {
        err->status = WSMAN_E_LIMIT;
        snprintf(err->msg, sizeof err->msg,
                 "line 1, column 1: a request of %zu bytes is too large", len);
        return err->status;
    }
    parser *b = sc_xcalloc(1, sizeof *b);
    b->a = a;
    b->err = err;
    b->req = sc_alloc(a, sizeof *b->req);
    b->p = XML_ParserCreateNS(NULL, SEP);
    if (!b->p) {
        fprintf(stderr, "smbcim: out of memory\n");
        abort();
    }
    XML_SetUserData(b->p, b);
    XML_SetElementHandler(b->p, on_start, on_end);
    XML_SetCharacterDataHandler(b->p, on_text);
    XML_SetStartDoctypeDeclHandler(b->p, on_doctype);
    XML_SetEntityDeclHandler(b->p, on_entity);
    XML_SetParamEntityParsing(b->p, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_Parse(b->p, body ? body : "", (int)len, XML_TRUE);
    if (!b->failed && st != XML_STATUS_OK) {
        err->status = WSMAN_E_NOT_XML;
        snprintf(err->msg, sizeof err->msg, "line %u, column %u: XML not well-formed: %s",
                 xml_line(b->p), xml_col(b->p), XML_ErrorString(XML_GetErrorCode(b->p)));
    }
    wsman_parse_status ret = err->status;
    if (ret == WSMAN_OK)
        *out = b->req;
    for (int i = 0; i < WSMAN_MAX_DEPTH; i++)
        sc_buf_free(&b->text[i]);
    XML_ParserFree(b->p);
    free(b);
    return ret;
}
