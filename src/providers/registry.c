/*
 * registry.c - one row per concrete class: the class name and its
 * provider.  Adding a class means a MOF declaration, one provider and one
 * row here.
 */
#include "providers/model_int.h"

static const sc_provider *const registry[] = {
    &sc_share_provider,
    &sc_connection_provider,
    &sc_session_provider,
    &sc_connshare_provider,
    &sc_sessconn_provider,
    &sc_openfile_provider,
    &sc_smbsession_provider,
    &sc_shareopen_provider,
    &sc_connopen_provider,
    &sc_sessopen_provider,
    &sc_objectmanager_provider,
    &sc_indicationservice_provider,
    &sc_namespace_provider,
    &sc_nsinmanager_provider,
    &sc_regprofile_provider,
    &sc_conformsto_provider,
    &sc_indfilter_provider,
    &sc_listenerdest_provider,
    &sc_indsubscription_provider,
};

const sc_provider *sc_provider_find(const char *class_name)
{
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
        if (sc_streqi(registry[i]->class_name, class_name))
            return registry[i];
    return NULL;
}
