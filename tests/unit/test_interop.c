/*
 * test_interop.c - root\interop through the public API (smbcim_open_interop):
 * the discovery classes, the subscriptions built from the caller's
 * records, associations in both directions, paths that carry the
 * namespace, and the records refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smbcim.h"

static const smbcim_interop_filter filters[] = {
    {.name = "conn-created",
     .query = "SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE TargetInstance ISA "
              "'Win32_ServerConnection'",
     .query_language = "WQL",
     .source_namespace = "root/cimv2"},
    {.name = "all", .query = "SELECT * FROM __InstanceOperationEvent WITHIN 5 WHERE "
                             "TargetInstance ISA 'Win32_ServerSession'",
     .query_language = "WQL"},
};
static const smbcim_interop_destination dests[] = {
    {.name = "nms", .destination = "http://127.0.0.1:5990/", .persistence_type = 2},
};
static const smbcim_interop_subscription subs[] = {
    {.filter = "CONN-CREATED", .destination = "nms", .state = 2, .start_time = 1795000000},
};

static smbcim_interop records(void)
{
    return (smbcim_interop){.system_name = "fs01.example.com",
                            .product = "smbcimd test",
                            .delivery_retry_attempts = 3,
                            .delivery_retry_interval = 20,
                            .filters = filters,
                            .nfilters = 2,
                            .destinations = dests,
                            .ndestinations = 1,
                            .subscriptions = subs,
                            .nsubscriptions = 1};
}

static smbcim_ctx *open_records(void)
{
    smbcim_interop in = records();
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_interop(&in, &err);
    if (!ctx)
        fail_msg("open_interop: %s", err.msg);
    return ctx;
}

static smbcim_result *query(smbcim_ctx *ctx, const char *wql)
{
    smbcim_result *res = NULL;
    smbcim_error err = {0};
    if (smbcim_exec_query(ctx, wql, &res, &err) != WBEM_S_NO_ERROR)
        fail_msg("%s: %s", wql, err.msg);
    return res;
}

static const char *str_of(const cim_instance *inst, const char *prop)
{
    const cim_value *v = smbcim_instance_get(inst, prop);
    return v && !v->null ? v->v.s : NULL;
}

static void test_discovery(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_records();
    assert_string_equal(smbcim_ctx_namespace(ctx), "root\\interop");
    assert_string_equal(smbcim_server_name(ctx), "FS01.EXAMPLE.COM");
    smbcim_result *r = query(ctx, "SELECT * FROM CIM_Namespace");
    assert_int_equal(r->count, 2);
    assert_string_equal(str_of(r->instances[0], "Name"), "root/cimv2");
    assert_string_equal(str_of(r->instances[1], "Name"), "root/interop");
    smbcim_result_free(r);
    r = query(ctx, "SELECT * FROM CIM_ObjectManager");
    assert_int_equal(r->count, 1);
    assert_string_equal(str_of(r->instances[0], "ElementName"), "smbcimd test");
    const char *path = r->instances[0]->path;
    assert_non_null(strstr(path, "\\\\FS01.EXAMPLE.COM\\root\\interop:CIM_ObjectManager."));
    /* the object manager's namespaces, through the association */
    smbcim_result *a = NULL;
    smbcim_error err = {0};
    smbcim_assoc_filter f = {.assoc_class = "CIM_NamespaceInManager"};
    assert_int_equal(smbcim_associators(ctx, path, &f, &a, &err), WBEM_S_NO_ERROR);
    assert_int_equal(a->count, 2);
    smbcim_result_free(a);
    smbcim_result_free(r);
    /* the profiles and what conforms to them, in both directions */
    r = query(ctx, "SELECT * FROM CIM_RegisteredProfile WHERE RegisteredName = 'Indications'");
    assert_int_equal(r->count, 1);
    assert_string_equal(str_of(r->instances[0], "RegisteredVersion"), "1.2.2");
    r = (smbcim_result_free(r), query(ctx, "ASSOCIATORS OF {CIM_RegisteredProfile.InstanceID="
                                           "\"smbcim:DMTF+Indications+1.2.2\"} WHERE "
                                           "AssocClass = CIM_ElementConformsToProfile"));
    assert_int_equal(r->count, 1);
    assert_string_equal(r->instances[0]->cls->name, "CIM_IndicationService");
    const cim_value *v = smbcim_instance_get(r->instances[0], "DeliveryRetryAttempts");
    assert_int_equal(v->v.u, 3);
    smbcim_result_free(r);
    r = query(ctx, "REFERENCES OF {CIM_ObjectManager.CreationClassName=\"CIM_ObjectManager\","
                   "Name=\"smbcimd\",SystemCreationClassName=\"CIM_ComputerSystem\","
                   "SystemName=\"fs01.example.com\"} WHERE ResultClass = "
                   "CIM_ElementConformsToProfile");
    assert_int_equal(r->count, 1);
    smbcim_result_free(r);
    smbcim_close(ctx);
}

static void test_subscriptions(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_records();
    smbcim_result *r = query(ctx, "SELECT * FROM CIM_IndicationSubscription");
    assert_int_equal(r->count, 1);
    const cim_instance *s = r->instances[0];
    /* the subscription names the filter as the filter spells itself */
    assert_non_null(strstr(str_of(s, "Filter"), "Name=\"conn-created\""));
    assert_non_null(strstr(str_of(s, "Handler"), "CIM_ListenerDestinationCIMXML."));
    assert_string_equal(str_of(s, "SubscriptionStartTime"), "20261118110640.000000+000");
    /* from the subscription to its filter and back */
    smbcim_result *a = NULL;
    smbcim_error err = {0};
    smbcim_assoc_filter f = {.result_class = "CIM_IndicationFilter"};
    assert_int_equal(smbcim_get_object(ctx, s->path, &a, &err), WBEM_S_NO_ERROR);
    smbcim_result_free(a);
    r = (smbcim_result_free(r),
         query(ctx, "ASSOCIATORS OF {CIM_ListenerDestinationCIMXML.CreationClassName="
                    "\"CIM_ListenerDestinationCIMXML\",Name=\"nms\",SystemCreationClassName="
                    "\"CIM_ComputerSystem\",SystemName=\"fs01.example.com\"}"));
    assert_int_equal(r->count, 1);
    assert_string_equal(str_of(r->instances[0], "Name"), "conn-created");
    assert_string_equal(str_of(r->instances[0], "QueryLanguage"), "WQL");
    (void)f;
    smbcim_result_free(r);
    /* the abstract destination class finds the CIM-XML one */
    r = query(ctx, "SELECT Name FROM CIM_ListenerDestination");
    assert_int_equal(r->count, 1);
    smbcim_result_free(r);
    /* a path of another namespace is refused with the namespace named */
    assert_int_equal(smbcim_get_object(ctx, "\\\\.\\root\\cimv2:CIM_Namespace.Name=\"x\"", &a,
                                       &err),
                     WBEM_E_INVALID_NAMESPACE);
    assert_non_null(strstr(err.msg, "root\\cimv2"));
    /* root/interop in any spelling is this one */
    assert_int_equal(smbcim_get_object(ctx, "//fs01/ROOT/Interop:CIM_ObjectManager."
                                            "CreationClassName=\"CIM_ObjectManager\",Name="
                                            "\"smbcimd\",SystemCreationClassName="
                                            "\"CIM_ComputerSystem\",SystemName=\"fs01.example.com\"",
                                       &a, &err),
                     WBEM_S_NO_ERROR);
    smbcim_result_free(a);
    /* the session classes do not exist here */
    assert_int_equal(smbcim_exec_query(ctx, "SELECT * FROM Win32_Share", &a, &err),
                     WBEM_E_INVALID_CLASS);
    smbcim_close(ctx);
}

static void test_refused(void **state)
{
    (void)state;
    smbcim_error err = {0};
    smbcim_interop in = records();
    smbcim_interop_filter twice[] = {filters[0], filters[0]};
    in.filters = twice;
    assert_null(smbcim_open_interop(&in, &err));
    assert_int_equal(err.code, WBEM_E_INVALID_PARAMETER);
    assert_non_null(strstr(err.msg, "two filters"));
    in = records();
    smbcim_interop_subscription bad = {.filter = "nope", .destination = "nms"};
    in.subscriptions = &bad;
    assert_null(smbcim_open_interop(&in, &err));
    assert_non_null(strstr(err.msg, "no filter 'nope'"));
    in = records();
    in.reserved[2] = 1;
    assert_null(smbcim_open_interop(&in, &err));
    in = records();
    in.system_name = NULL;
    assert_null(smbcim_open_interop(&in, &err));
    /* NULL records: the schema only */
    smbcim_ctx *ctx = smbcim_open_interop(NULL, &err);
    assert_non_null(ctx);
    assert_non_null(smbcim_class_find(ctx, "CIM_InstCreation"));
    assert_null(smbcim_class_find(ctx, "Win32_Share"));
    smbcim_result *r = query(ctx, "SELECT * FROM CIM_ObjectManager");
    assert_int_equal(r->count, 0);
    smbcim_result_free(r);
    smbcim_close(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_discovery),
        cmocka_unit_test(test_subscriptions),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
