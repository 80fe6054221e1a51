/*
 * interop.c - the classes of root\interop (schema/interop/): the object
 * manager, its namespaces, the profiles it implements (DMTF DSP1033) and
 * the indication subscriptions (DSP1054), from the caller's records
 * (pc->interop, sources/interop.c).  A context of root\cimv2 has no such
 * records, so these providers give nothing there.
 *
 * Fixed choices (docs/smbcimd.md, "root/interop"): every instance is
 * hosted by a CIM_ComputerSystem named the records' system_name; the
 * object manager is named "smbcimd"; REF values are relative paths, as in
 * root\cimv2, resolved against the context's namespace.
 */
#include "providers/model_int.h"

#include <string.h>

#define SYSTEM_CLASS "CIM_ComputerSystem"
#define OM_NAME "smbcimd"
#define INDICATION_SERVICE_NAME "smbcimd:IndicationService"

/* The profiles implemented: DSP1033 Profile Registration (its central
 * instance is the object manager) and DSP1054 Indications (the indication
 * service). */
static const struct {
    const char *id, *name, *version, *element_class;
} profiles[] = {
    {"smbcim:DMTF+Profile Registration+1.0.0", "Profile Registration", "1.0.0",
     "CIM_ObjectManager"},
    {"smbcim:DMTF+Indications+1.2.2", "Indications", "1.2.2", "CIM_IndicationService"},
};

static const char *const namespaces[] = {"root/cimv2", "root/interop"};

static cim_value u16_array(sc_arena *a, uint16_t x)
{
    cim_value *e = sc_alloc(a, sizeof *e);
    *e = cim_u(CIM_T_UINT16, x);
    cim_value v = {.type = CIM_T_UINT16, .array = true, .count = 1};
    v.v.elems = e;
    return v;
}

static cim_value str_array(sc_arena *a, const char *s)
{
    cim_value *e = sc_alloc(a, sizeof *e);
    *e = cim_str(CIM_T_STRING, s);
    cim_value v = {.type = CIM_T_STRING, .array = true, .count = 1};
    v.v.elems = e;
    return v;
}

static cim_value when(sc_arena *a, int64_t sec)
{
    return sec ? cim_str(CIM_T_DATETIME, cim_datetime_from_epoch(a, sec, 0))
               : cim_null(CIM_T_DATETIME);
}

static cim_instance *make(sc_provctx *pc, const char *cls_name)
{
    return cim_instance_new(pc->arena, cim_schema_find(pc->schema, cls_name));
}

static void hosted(sc_provctx *pc, cim_instance *inst, const char *creation_class,
                   const char *name)
{
    cim_instance_set(inst, "SystemCreationClassName", cim_str(CIM_T_STRING, SYSTEM_CLASS));
    cim_instance_set(inst, "SystemName", cim_str(CIM_T_STRING, pc->interop->system_name));
    cim_instance_set(inst, "CreationClassName", cim_str(CIM_T_STRING, creation_class));
    cim_instance_set(inst, "Name", cim_str(CIM_T_STRING, name));
}

static void running(sc_provctx *pc, cim_instance *inst)
{
    cim_instance_set(inst, "Started", cim_bool(true));
    cim_instance_set(inst, "EnabledState", cim_u(CIM_T_UINT16, 2));
    cim_instance_set(inst, "RequestedState", cim_u(CIM_T_UINT16, 12));
    cim_instance_set(inst, "OperationalStatus", u16_array(pc->arena, 2));
}

static cim_instance *object_manager(sc_provctx *pc)
{
    cim_instance *inst = make(pc, "CIM_ObjectManager");
    hosted(pc, inst, "CIM_ObjectManager", OM_NAME);
    cim_instance_set(inst, "ElementName",
                     cim_str(CIM_T_STRING, pc->interop->product ? pc->interop->product : OM_NAME));
    cim_instance_set(inst, "Description",
                     cim_str(CIM_T_STRING, "smbcimd: the smbcim CIM server (CIM-XML, "
                                           "WS-Management) for Samba's sessions and shares"));
    running(pc, inst);
    cim_instance_set(inst, "GatherStatisticalData", cim_bool(false));
    sc_instance_finish(pc, inst);
    return inst;
}

static cim_instance *indication_service(sc_provctx *pc)
{
    cim_instance *inst = make(pc, "CIM_IndicationService");
    hosted(pc, inst, "CIM_IndicationService", INDICATION_SERVICE_NAME);
    cim_instance_set(inst, "ElementName", cim_str(CIM_T_STRING, "smbcimd indication service"));
    running(pc, inst);
    cim_instance_set(inst, "FilterCreationEnabled", cim_bool(true));
    cim_instance_set(inst, "DeliveryRetryAttempts",
                     cim_u(CIM_T_UINT16, pc->interop->delivery_retry_attempts));
    cim_instance_set(inst, "DeliveryRetryInterval",
                     cim_u(CIM_T_UINT32, pc->interop->delivery_retry_interval));
    cim_instance_set(inst, "SubscriptionRemovalAction", cim_u(CIM_T_UINT16, 4));
    sc_instance_finish(pc, inst);
    return inst;
}

static cim_instance *name_space(sc_provctx *pc, const char *name)
{
    cim_instance *inst = make(pc, "CIM_Namespace");
    hosted(pc, inst, "CIM_Namespace", name);
    cim_instance_set(inst, "ObjectManagerCreationClassName",
                     cim_str(CIM_T_STRING, "CIM_ObjectManager"));
    cim_instance_set(inst, "ObjectManagerName", cim_str(CIM_T_STRING, OM_NAME));
    cim_instance_set(inst, "ClassType", cim_u(CIM_T_UINT16, 2));
    sc_instance_finish(pc, inst);
    return inst;
}

static cim_instance *profile(sc_provctx *pc, size_t i)
{
    cim_instance *inst = make(pc, "CIM_RegisteredProfile");
    cim_instance_set(inst, "InstanceID", cim_str(CIM_T_STRING, profiles[i].id));
    cim_instance_set(inst, "RegisteredOrganization", cim_u(CIM_T_UINT16, 2));
    cim_instance_set(inst, "RegisteredName", cim_str(CIM_T_STRING, profiles[i].name));
    cim_instance_set(inst, "RegisteredVersion", cim_str(CIM_T_STRING, profiles[i].version));
    cim_instance_set(inst, "AdvertiseTypes", u16_array(pc->arena, 2));
    cim_instance_set(inst, "ElementName", cim_str(CIM_T_STRING, profiles[i].name));
    sc_instance_finish(pc, inst);
    return inst;
}

static cim_instance *filter(sc_provctx *pc, const smbcim_interop_filter *f)
{
    cim_instance *inst = make(pc, "CIM_IndicationFilter");
    hosted(pc, inst, "CIM_IndicationFilter", f->name);
    cim_instance_set(inst, "ElementName", cim_str(CIM_T_STRING, f->name));
    cim_instance_set(inst, "Query", cim_str(CIM_T_STRING, f->query));
    cim_instance_set(inst, "QueryLanguage", cim_str(CIM_T_STRING, f->query_language));
    cim_instance_set(inst, "SourceNamespace", cim_str(CIM_T_STRING, f->source_namespace));
    if (f->source_namespace)
        cim_instance_set(inst, "SourceNamespaces", str_array(pc->arena, f->source_namespace));
    cim_instance_set(inst, "IndividualSubscriptionSupported", cim_bool(true));
    sc_instance_finish(pc, inst);
    return inst;
}

static cim_instance *destination(sc_provctx *pc, const smbcim_interop_destination *d)
{
    cim_instance *inst = make(pc, "CIM_ListenerDestinationCIMXML");
    hosted(pc, inst, "CIM_ListenerDestinationCIMXML", d->name);
    cim_instance_set(inst, "ElementName", cim_str(CIM_T_STRING, d->name));
    cim_instance_set(inst, "Destination", cim_str(CIM_T_STRING, d->destination));
    cim_instance_set(inst, "PersistenceType", d->persistence_type
                                                  ? cim_u(CIM_T_UINT16, d->persistence_type)
                                                  : cim_null(CIM_T_UINT16));
    sc_instance_finish(pc, inst);
    return inst;
}

static const smbcim_interop_filter *filter_named(const smbcim_interop *in, const char *name)
{
    for (size_t i = 0; i < in->nfilters; i++)
        if (in->filters[i].name == name)
            return &in->filters[i];
    return NULL;
}

static const smbcim_interop_destination *destination_named(const smbcim_interop *in,
                                                           const char *name)
{
    for (size_t i = 0; i < in->ndestinations; i++)
        if (in->destinations[i].name == name)
            return &in->destinations[i];
    return NULL;
}

static cim_instance *link(sc_provctx *pc, const char *cls, const char *role1,
                          const cim_instance *end1, const char *role2, const cim_instance *end2)
{
    cim_instance *inst = make(pc, cls);
    cim_instance_set(inst, role1, cim_str(CIM_T_REFERENCE, end1->relpath));
    cim_instance_set(inst, role2, cim_str(CIM_T_REFERENCE, end2->relpath));
    return inst;
}

static cim_instance *subscription(sc_provctx *pc, const smbcim_interop_subscription *s)
{
    /* sources/interop.c made s->filter and s->destination the very
     * strings of the records they name */
    const smbcim_interop *in = pc->interop;
    cim_instance *inst = link(pc, "CIM_IndicationSubscription", "Filter",
                              filter(pc, filter_named(in, s->filter)), "Handler",
                              destination(pc, destination_named(in, s->destination)));
    cim_instance_set(inst, "OnFatalErrorPolicy", cim_u(CIM_T_UINT16, 2));
    cim_instance_set(inst, "SubscriptionState",
                     s->state ? cim_u(CIM_T_UINT16, s->state) : cim_null(CIM_T_UINT16));
    cim_instance_set(inst, "SubscriptionStartTime", when(pc->arena, s->start_time));
    cim_instance_set(inst, "TimeOfLastStateChange", when(pc->arena, s->state_time));
    sc_instance_finish(pc, inst);
    return inst;
}

static smbcim_status interop_enumerate(sc_provctx *pc, const cim_class *cls, sc_vec *out,
                                       smbcim_error *err)
{
    (void)err;
    const smbcim_interop *in = pc->interop;
    if (!in)
        return WBEM_S_NO_ERROR;
    const char *c = cls->name;
    if (sc_streqi(c, "CIM_ObjectManager")) {
        sc_vec_push(out, object_manager(pc));
    } else if (sc_streqi(c, "CIM_IndicationService")) {
        sc_vec_push(out, indication_service(pc));
    } else if (sc_streqi(c, "CIM_Namespace")) {
        for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++)
            sc_vec_push(out, name_space(pc, namespaces[i]));
    } else if (sc_streqi(c, "CIM_NamespaceInManager")) {
        cim_instance *om = object_manager(pc);
        for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; i++) {
            cim_instance *l = link(pc, c, "Antecedent", om, "Dependent",
                                   name_space(pc, namespaces[i]));
            sc_instance_finish(pc, l);
            sc_vec_push(out, l);
        }
    } else if (sc_streqi(c, "CIM_RegisteredProfile")) {
        for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
            sc_vec_push(out, profile(pc, i));
    } else if (sc_streqi(c, "CIM_ElementConformsToProfile")) {
        for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
            bool om = strcmp(profiles[i].element_class, "CIM_ObjectManager") == 0;
            cim_instance *l = link(pc, c, "ConformantStandard", profile(pc, i), "ManagedElement",
                                   om ? object_manager(pc) : indication_service(pc));
            sc_instance_finish(pc, l);
            sc_vec_push(out, l);
        }
    } else if (sc_streqi(c, "CIM_IndicationFilter")) {
        for (size_t i = 0; i < in->nfilters; i++)
            sc_vec_push(out, filter(pc, &in->filters[i]));
    } else if (sc_streqi(c, "CIM_ListenerDestinationCIMXML")) {
        for (size_t i = 0; i < in->ndestinations; i++)
            sc_vec_push(out, destination(pc, &in->destinations[i]));
    } else if (sc_streqi(c, "CIM_IndicationSubscription")) {
        for (size_t i = 0; i < in->nsubscriptions; i++)
            sc_vec_push(out, subscription(pc, &in->subscriptions[i]));
    }
    return WBEM_S_NO_ERROR;
}

#define INTEROP_PROVIDER(var, name)                                                          \
    const sc_provider var = {.class_name = name, .enumerate = interop_enumerate}

INTEROP_PROVIDER(sc_objectmanager_provider, "CIM_ObjectManager");
INTEROP_PROVIDER(sc_indicationservice_provider, "CIM_IndicationService");
INTEROP_PROVIDER(sc_namespace_provider, "CIM_Namespace");
INTEROP_PROVIDER(sc_nsinmanager_provider, "CIM_NamespaceInManager");
INTEROP_PROVIDER(sc_regprofile_provider, "CIM_RegisteredProfile");
INTEROP_PROVIDER(sc_conformsto_provider, "CIM_ElementConformsToProfile");
INTEROP_PROVIDER(sc_indfilter_provider, "CIM_IndicationFilter");
INTEROP_PROVIDER(sc_listenerdest_provider, "CIM_ListenerDestinationCIMXML");
INTEROP_PROVIDER(sc_indsubscription_provider, "CIM_IndicationSubscription");
