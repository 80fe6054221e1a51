/*
 * interop.c - the records root\interop is answered from (smbcim_interop):
 * given by the caller (smbcimd keeps the subscriptions, docs/smbcimd.md),
 * checked once here and copied into the context's arena, so that the
 * providers (providers/interop.c) may trust them and the caller may free
 * its own.
 */
#include "sources/sources.h"

#include <string.h>

static bool zero(const uint32_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (r[i])
            return false;
    return true;
}

static const char *dup_or_null(sc_arena *a, const char *s)
{
    return s ? sc_strdup(a, s) : NULL;
}

static size_t find_filter(const smbcim_interop *in, const char *name)
{
    for (size_t i = 0; i < in->nfilters; i++)
        if (sc_streqi(in->filters[i].name, name))
            return i;
    return SIZE_MAX;
}

static size_t find_destination(const smbcim_interop *in, const char *name)
{
    for (size_t i = 0; i < in->ndestinations; i++)
        if (sc_streqi(in->destinations[i].name, name))
            return i;
    return SIZE_MAX;
}

/* Names compare as CIM keys do: case-insensitively.  The lists are small
 * (smbcimd caps them), so the checks are plain loops. */
static smbcim_status check(const smbcim_interop *in, smbcim_error *err)
{
    if (!in->system_name || !*in->system_name)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "root/interop: no system_name");
    if (!zero(in->reserved, 4))
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                "root/interop: reserved members must be zero");
    if ((in->nfilters && !in->filters) || (in->ndestinations && !in->destinations) ||
        (in->nsubscriptions && !in->subscriptions))
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                "root/interop: a count without its array");
    for (size_t i = 0; i < in->nfilters; i++) {
        const smbcim_interop_filter *f = &in->filters[i];
        if (!f->name || !*f->name || !zero(f->reserved, 4))
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: filter %zu has no name or reserved members set",
                                    i);
        if (find_filter(in, f->name) != i)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: two filters are named '%s'", f->name);
    }
    for (size_t i = 0; i < in->ndestinations; i++) {
        const smbcim_interop_destination *d = &in->destinations[i];
        if (!d->name || !*d->name || !zero(d->reserved, 4))
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: destination %zu has no name or reserved "
                                    "members set", i);
        if (find_destination(in, d->name) != i)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: two destinations are named '%s'", d->name);
    }
    for (size_t i = 0; i < in->nsubscriptions; i++) {
        const smbcim_interop_subscription *s = &in->subscriptions[i];
        if (!s->filter || !s->destination || !zero(s->reserved, 4))
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: subscription %zu names no filter or no "
                                    "destination, or has reserved members set", i);
        if (find_filter(in, s->filter) == SIZE_MAX)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: subscription %zu: no filter '%s'", i,
                                    s->filter);
        if (find_destination(in, s->destination) == SIZE_MAX)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "root/interop: subscription %zu: no destination '%s'", i,
                                    s->destination);
        for (size_t j = 0; j < i; j++)
            if (sc_streqi(in->subscriptions[j].filter, s->filter) &&
                sc_streqi(in->subscriptions[j].destination, s->destination))
                return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                        "root/interop: two subscriptions of filter '%s' to "
                                        "destination '%s'", s->filter, s->destination);
    }
    return WBEM_S_NO_ERROR;
}

smbcim_status sc_interop_copy(sc_arena *a, const smbcim_interop *in,
                              const smbcim_interop **out, smbcim_error *err)
{
    smbcim_status st = check(in, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    smbcim_interop *c = sc_alloc(a, sizeof *c);
    *c = *in;
    c->system_name = sc_strdup(a, in->system_name);
    c->product = dup_or_null(a, in->product);
    smbcim_interop_filter *f = sc_alloc_array(a, in->nfilters + 1, sizeof *f);
    for (size_t i = 0; i < in->nfilters; i++) {
        f[i] = in->filters[i];
        f[i].name = sc_strdup(a, in->filters[i].name);
        f[i].query = dup_or_null(a, in->filters[i].query);
        f[i].query_language = dup_or_null(a, in->filters[i].query_language);
        f[i].source_namespace = dup_or_null(a, in->filters[i].source_namespace);
    }
    c->filters = f;
    smbcim_interop_destination *d = sc_alloc_array(a, in->ndestinations + 1, sizeof *d);
    for (size_t i = 0; i < in->ndestinations; i++) {
        d[i] = in->destinations[i];
        d[i].name = sc_strdup(a, in->destinations[i].name);
        d[i].destination = dup_or_null(a, in->destinations[i].destination);
    }
    c->destinations = d;
    smbcim_interop_subscription *s = sc_alloc_array(a, in->nsubscriptions + 1, sizeof *s);
    for (size_t i = 0; i < in->nsubscriptions; i++) {
        s[i] = in->subscriptions[i];
        /* the names as the filter and destination spell them */
        s[i].filter = f[find_filter(in, in->subscriptions[i].filter)].name;
        s[i].destination = d[find_destination(in, in->subscriptions[i].destination)].name;
    }
    c->subscriptions = s;
    *out = c;
    return WBEM_S_NO_ERROR;
}
