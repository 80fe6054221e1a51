/*
 * test_srv_cimxml.c - the CIM-XML message layer (src/server/cimxml.h):
 * every request wbemcli and pywbem were seen sending (bodies captured from
 * the wire, /work/shared/spec/wbemcli-captures), the parser's refusals
 * (DOCTYPE, truncation, structure, limits, unknown methods and
 * parameters), and the writer: responses re-read with expat, instance
 * names written by the writer, read back by the parser and found again by
 * the engine, escaping, classes and values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <expat.h>

#include "smbcim.h"
#include "cim/cim.h"
#include "mof/mof.h"
#include "server/cimxml.h"

/* ---- the captured request bodies (byte for byte, Content-Length) --------- */
static const struct capture {
    const char *name;
    const char *cimmethod; /* the CIMMethod header sent with it */
    const char *body;
} captures[] = {
    {"01-ecn-EnumerateClassNames", "EnumerateClassNames",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateClassNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"DeepInheritance\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"02-ecn-EnumerateClassNames-class", "EnumerateClassNames",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateClassNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"CIM_Dependency\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"DeepInheritance\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"03-ec-EnumerateClasses", "EnumerateClasses",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateClasses\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"CIM_Dependency\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"DeepInheritance\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"04-gc-GetClass", "GetClass",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetClass\">\n"
     "<LOCALNAMESPACEPATH>\n"
     "<NAMESPACE NAME=\"root\"/>\n"
     "<NAMESPACE NAME=\"cimv2\"/>\n"
     "</LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"05-gcd-GetClass-xml", "GetClass",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetClass\">\n"
     "<LOCALNAMESPACEPATH>\n"
     "<NAMESPACE NAME=\"root\"/>\n"
     "<NAMESPACE NAME=\"cimv2\"/>\n"
     "</LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"06-ein-EnumerateInstanceNames", "EnumerateInstanceNames",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateInstanceNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"07-ei-EnumerateInstances", "EnumerateInstances",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateInstances\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"DeepInheritance\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"08-ei-EnumerateInstances-proplist-nl-t", "EnumerateInstances",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"EnumerateInstances\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_Share\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"DeepInheritance\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"PropertyList\"><VALUE.ARRAY><VALUE>Name</VALUE><VALUE>Path</VALUE><VALUE>Type</VALUE></VALUE.ARRAY></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"09-gi-GetInstance-assoc", "GetInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_ConnectionShare\"><KEYBINDING NAME=\"Antecedent\"><VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>127.0.0.1</HOST><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH></NAMESPACEPATH><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></INSTANCEPATH></VALUE.REFERENCE></KEYBINDING><KEYBINDING NAME=\"Dependent\"><VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>127.0.0.1</HOST><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH></NAMESPACEPATH><INSTANCENAME CLASSNAME=\"Win32_ServerConnection\"><KEYBINDING NAME=\"ComputerName\"><KEYVALUE VALUETYPE=\"string\">10.0.0.5</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"ShareName\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"UserName\"><KEYVALUE VALUETYPE=\"string\">bob</KEYVALUE></KEYBINDING></INSTANCENAME></INSTANCEPATH></VALUE.REFERENCE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"10-gi-GetInstance-share", "GetInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"11-gi-GetInstance-notfound", "GetInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">nope</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"12-ai-Associators", "Associators",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"Associators\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ObjectName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"13-ai-Associators-filters", "Associators",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"Associators\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ObjectName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"AssocClass\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"ResultClass\"><CLASSNAME NAME=\"Win32_ServerConnection\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"Role\"><VALUE>Antecedent</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"ResultRole\"><VALUE>Dependent</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"14-ain-AssociatorNames", "AssociatorNames",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"AssociatorNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ObjectName\"><INSTANCENAME CLASSNAME=\"Win32_ServerConnection\"><KEYBINDING NAME=\"ComputerName\"><KEYVALUE VALUETYPE=\"string\">10.0.0.9</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"ShareName\"><KEYVALUE VALUETYPE=\"string\">Public</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"UserName\"><KEYVALUE VALUETYPE=\"string\">alice</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"AssocClass\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"ResultClass\"><CLASSNAME NAME=\"Win32_Share\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"Role\"><VALUE>Dependent</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"ResultRole\"><VALUE>Antecedent</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"15-ri-References", "References",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"References\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ObjectName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"16-rin-ReferenceNames", "ReferenceNames",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"ReferenceNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ObjectName\"><INSTANCENAME CLASSNAME=\"Win32_ServerConnection\"><KEYBINDING NAME=\"ComputerName\"><KEYVALUE VALUETYPE=\"string\">10.0.0.9</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"ShareName\"><KEYVALUE VALUETYPE=\"string\">Public</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"UserName\"><KEYVALUE VALUETYPE=\"string\">alice</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"ResultClass\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"Role\"><VALUE>Dependent</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"17-cm-InvokeMethod-noparams", "GetClass",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetClass\">\n"
     "<LOCALNAMESPACEPATH>\n"
     "<NAMESPACE NAME=\"root\"/>\n"
     "<NAMESPACE NAME=\"cimv2\"/>\n"
     "</LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_Share\"/></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>FALSE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeQualifiers\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "<IPARAMVALUE NAME=\"IncludeClassOrigin\"><VALUE>TRUE</VALUE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"17-cm-InvokeMethod-noparams#2", "GetAccessMask",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><METHODCALL NAME=\"GetAccessMask\"><LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH></METHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"18-cm-InvokeMethod-params#2", "SetShareInfo",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><METHODCALL NAME=\"SetShareInfo\"><LOCALINSTANCEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></LOCALINSTANCEPATH><PARAMVALUE NAME=\"MaximumAllowed\"><VALUE>10</VALUE></PARAMVALUE><PARAMVALUE NAME=\"Description\"><VALUE>hello world</VALUE></PARAMVALUE></METHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"20-gp-GetProperty", "GetProperty",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetProperty\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"PropertyName\"><VALUE>Description</VALUE></IPARAMVALUE><IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"21-di-DeleteInstance", "DeleteInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"DeleteInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"22-ci-CreateInstance#2", "CreateInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"CreateInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"NewInstance\"><INSTANCE CLASSNAME=\"Win32_Share\">\n"
     "<PROPERTY NAME=\"Name\" TYPE=\"string\"><VALUE>New</VALUE></PROPERTY>\n"
     "<PROPERTY NAME=\"Path\" TYPE=\"string\"><VALUE>C:\\\\new</VALUE></PROPERTY></INSTANCE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"23-mi-ModifyInstance#2", "ModifyInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">\n"
     "<MESSAGE ID=\"4711\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"ModifyInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"></NAMESPACE><NAMESPACE NAME=\"cimv2\"></NAMESPACE></LOCALNAMESPACEPATH>\n"
     "<IPARAMVALUE NAME=\"ModifiedInstance\"><VALUE.NAMEDINSTANCE><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME><INSTANCE CLASSNAME=\"Win32_Share\"><PROPERTY NAME=\"AccessMask\" TYPE=\"uint32\"></PROPERTY><PROPERTY NAME=\"AllowMaximum\" TYPE=\"boolean\"><VALUE>TRUE</VALUE></PROPERTY><PROPERTY NAME=\"Caption\" TYPE=\"string\"><VALUE>Remote IPC</VALUE></PROPERTY>\n"
     "<PROPERTY NAME=\"Description\" TYPE=\"string\"><VALUE>changed</VALUE></PROPERTY><PROPERTY NAME=\"InstallDate\" TYPE=\"datetime\"></PROPERTY><PROPERTY NAME=\"MaximumAllowed\" TYPE=\"uint32\"></PROPERTY><PROPERTY NAME=\"Name\" TYPE=\"string\"><VALUE>IPC$</VALUE></PROPERTY><PROPERTY NAME=\"Path\" TYPE=\"string\"><VALUE></VALUE></PROPERTY><PROPERTY NAME=\"Status\" TYPE=\"string\"><VALUE>OK</VALUE></PROPERTY><PROPERTY NAME=\"Type\" TYPE=\"uint32\"><VALUE>2147483651</VALUE></PROPERTY></INSTANCE></VALUE.NAMEDINSTANCE></IPARAMVALUE>\n"
     "</IMETHODCALL></SIMPLEREQ>\n"
     "</MESSAGE></CIM>"},
    {"pywbem-01-OpenEnumerateInstances-Pull", "OpenEnumerateInstances",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"OpenEnumerateInstances\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>1</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-01-OpenEnumerateInstances-Pull#2", "PullInstancesWithPath",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"PullInstancesWithPath\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>ctx-16489</VALUE></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>1</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-02-OpenEnumerateInstancePaths-Pull", "OpenEnumerateInstancePaths",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"OpenEnumerateInstancePaths\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ServerConnection\"/></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>0</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-02-OpenEnumerateInstancePaths-Pull#2", "PullInstancePaths",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"PullInstancePaths\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>ctx-19118</VALUE></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>10</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-03-OpenAssociatorInstances", "OpenAssociatorInstances",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"OpenAssociatorInstances\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\" TYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE><IPARAMVALUE NAME=\"AssocClass\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>10</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-04-OpenReferenceInstancePaths", "OpenReferenceInstancePaths",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"OpenReferenceInstancePaths\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\" TYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>10</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-05-CloseEnumeration", "OpenEnumerateInstances",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"OpenEnumerateInstances\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>0</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-05-CloseEnumeration#2", "CloseEnumeration",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"CloseEnumeration\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>ctx-25421</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-06-ExecQuery-WQL", "ExecQuery",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"ExecQuery\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"QueryLanguage\"><VALUE>WQL</VALUE></IPARAMVALUE><IPARAMVALUE NAME=\"Query\"><VALUE>SELECT * FROM Win32_ConnectionShare</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-07-Associators", "Associators",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"Associators\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"ObjectName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\" TYPE=\"string\">IPC$</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE><IPARAMVALUE NAME=\"AssocClass\"><CLASSNAME NAME=\"Win32_ConnectionShare\"/></IPARAMVALUE><IPARAMVALUE NAME=\"ResultRole\"><VALUE>Dependent</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-08-IterEnumerateInstances#2", "PullInstancesWithPath",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"PullInstancesWithPath\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>ctx-32442</VALUE></IPARAMVALUE><IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>1</VALUE></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
    {"pywbem-09-GetInstance-notfound", "GetInstance",
     "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
     "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1001\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetInstance\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE VALUETYPE=\"string\" TYPE=\"string\">nope</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>"},
};

static const char *capture(const char *name)
{
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++)
        if (strcmp(captures[i].name, name) == 0)
            return captures[i].body;
    fail_msg("no capture %s", name);
    return NULL;
}

/* ---- helpers ------------------------------------------------------------- */
static const char *srcdir(void)
{
    const char *d = getenv("SMBCIM_SRCDIR");
    return d ? d : ".";
}

static smbcim_ctx *open_fixture(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", srcdir(), name);
    smbcim_error err = {0};
    smbcim_ctx *ctx = smbcim_open_snapshot(path, &err);
    if (!ctx)
        fail_msg("%s: %s", path, err.msg);
    return ctx;
}

static cimxml_request *parse_ok(sc_arena *a, const char *body)
{
    cimxml_request *r = NULL;
    cimxml_error err;
    if (!cimxml_parse_request(a, body, strlen(body), &r, &err))
        fail_msg("refused (kind %d, code %d): %s\n%s", err.kind, err.cim_code, err.msg, body);
    assert_non_null(r);
    return r;
}

/* Expects a refusal of `kind` (and `code` for CIM errors); returns the
 * error, req (when not NULL) gets the partial request (arena a). */
static cimxml_error parse_bad(sc_arena *a, const char *body, size_t len, cimxml_errkind kind,
                              int code, cimxml_request **req)
{
    cimxml_request *r = NULL;
    cimxml_error err;
    if (cimxml_parse_request(a, body, len, &r, &err))
        fail_msg("accepted:\n%.2000s", body);
    if (err.kind != kind || err.cim_code != code)
        fail_msg("kind %d code %d (wanted %d/%d): %s", err.kind, err.cim_code, kind, code,
                 err.msg);
    if (kind == CIMXML_E_CIM)
        assert_non_null(r);
    else
        assert_null(r);
    if (strncmp(err.msg, "line ", 5) != 0 || err.line == 0 || err.col == 0)
        fail_msg("no position in \"%s\"", err.msg);
    if (req)
        *req = r;
    return err;
}

static cimxml_error bad(const char *body, cimxml_errkind kind, int code)
{
    sc_arena *a = sc_arena_new();
    cimxml_error e = parse_bad(a, body, strlen(body), kind, code, NULL);
    sc_arena_free(a);
    return e;
}

/* A request for `method` with the IPARAMVALUEs `params` (arena string). */
static const char *mkreq(sc_arena *a, const char *method, const char *params)
{
    return sc_sprintf(a,
                      "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n"
                      "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"77\" "
                      "PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"%s\">"
                      "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/>"
                      "</LOCALNAMESPACEPATH>%s</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>",
                      method, params);
}

static const char *iparam(sc_arena *a, const char *name, const char *content)
{
    return sc_sprintf(a, "<IPARAMVALUE NAME=\"%s\">%s</IPARAMVALUE>", name, content);
}

/* The instance-name path a GetInstance request with this INSTANCENAME
 * element yields. */
static const char *path_of(sc_arena *a, const char *instancename)
{
    cimxml_request *r = parse_ok(a, mkreq(a, "GetInstance", iparam(a, "InstanceName", instancename)));
    assert_non_null(r->instance_name);
    return r->instance_name;
}

/* ---- re-reading output with expat: a canonical text ---------------------- *
 * <NAME a=v b=w>text</NAME>, attribute values and text decoded. */
typedef struct canon {
    sc_buf out;
    size_t elements;
} canon;

static void XMLCALL c_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    canon *c = ud;
    c->elements++;
    sc_buf_printf(&c->out, "<%s", name);
    for (size_t i = 0; atts[i]; i += 2)
        sc_buf_printf(&c->out, " %s=%s", atts[i], atts[i + 1]);
    sc_buf_putc(&c->out, '>');
}

static void XMLCALL c_end(void *ud, const XML_Char *name)
{
    canon *c = ud;
    sc_buf_printf(&c->out, "</%s>", name);
}

static void XMLCALL c_text(void *ud, const XML_Char *s, int len)
{
    canon *c = ud;
    sc_buf_add(&c->out, s, (size_t)len);
}

/* Expat 2.9 deprecates XML_GetCurrent{Line,Column}Number for their *64
 * twins, which older expat (2.5 in Debian 12) does not have. */
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 9)
#define c_line(p) ((unsigned long)XML_GetCurrentLineNumber64(p))
#define c_col(p) ((unsigned long)XML_GetCurrentColumnNumber64(p))
#else
#define c_line(p) ((unsigned long)XML_GetCurrentLineNumber(p))
#define c_col(p) ((unsigned long)XML_GetCurrentColumnNumber(p))
#endif

/* Parses doc (fails the test if it is not well-formed XML) and returns
 * its canonical text (free()). */
static char *xml_canon(const char *doc, size_t *nelements)
{
    canon c;
    sc_buf_init(&c.out);
    c.elements = 0;
    XML_Parser p = XML_ParserCreate(NULL);
    XML_SetUserData(p, &c);
    XML_SetElementHandler(p, c_start, c_end);
    XML_SetCharacterDataHandler(p, c_text);
    if (XML_Parse(p, doc, (int)strlen(doc), XML_TRUE) != XML_STATUS_OK)
        fail_msg("output not well-formed at line %lu col %lu: %s\n%.3000s",
                 c_line(p), c_col(p),
                 XML_ErrorString(XML_GetErrorCode(p)), doc);
    XML_ParserFree(p);
    if (nelements)
        *nelements = c.elements;
    return sc_buf_take(&c.out);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

#define assert_contains(hay, needle)                                           \
    do {                                                                       \
        if (!strstr((hay), (needle)))                                          \
            fail_msg("missing \"%s\" in:\n%.4000s", (needle), (hay));          \
    } while (0)
#define assert_lacks(hay, needle)                                              \
    do {                                                                       \
        if (strstr((hay), (needle)))                                           \
            fail_msg("unexpected \"%s\" in:\n%.4000s", (needle), (hay));       \
    } while (0)

/* wbemcli's dialect rules (wbem-protocols.md §2.5) on raw output. */
static void check_dialect(const char *doc)
{
    const char *decl = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>";
    if (strncmp(doc, decl, strlen(decl)) != 0)
        fail_msg("no XML declaration: %.80s", doc);
    assert_lacks(doc, "<IRETURNVALUE/>");
    assert_lacks(doc, "xml:lang");
    assert_lacks(doc, "standalone");
    for (const char *p = strstr(doc, "<PROPERTY"); p; p = strstr(p + 1, "<PROPERTY")) {
        const char *gt = strchr(p, '>');
        assert_non_null(gt);
        if (gt[-1] == '/')
            fail_msg("self-closed property: %.120s", p);
    }
    /* every KEYVALUE says VALUETYPE and TYPE */
    for (const char *p = strstr(doc, "<KEYVALUE"); p; p = strstr(p + 1, "<KEYVALUE"))
        if (strncmp(p, "<KEYVALUE VALUETYPE=\"", 21) != 0 || !strstr(p, " TYPE=\""))
            fail_msg("KEYVALUE without VALUETYPE/TYPE: %.120s", p);
}

/* ---- the captures ------------------------------------------------------------ */
static void test_captures_all(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++) {
        sc_arena *a = sc_arena_new();
        cimxml_request *r = NULL;
        cimxml_error err;
        bool ok = cimxml_parse_request(a, captures[i].body, strlen(captures[i].body), &r, &err);
        if (!ok && (err.kind != CIMXML_E_CIM || err.cim_code != CIM_ERR_NOT_SUPPORTED))
            fail_msg("%s: kind %d code %d: %s", captures[i].name, err.kind, err.cim_code, err.msg);
        assert_non_null(r);
        /* the header's CIMMethod equals the body's method */
        assert_string_equal(r->method, captures[i].cimmethod);
        assert_string_equal(r->nspace, "root/cimv2");
        assert_string_equal(r->protocol_version, "1.0");
        assert_string_equal(r->cim_version, "2.0");
        assert_true(strcmp(r->id, "4711") == 0 || strcmp(r->id, "1001") == 0);
        /* the supported ones and only those parse */
        bool supported = r->op != CIMXML_OP_UNKNOWN && r->op != CIMXML_OP_UNSUPPORTED &&
                         r->op != CIMXML_OP_EXTRINSIC;
        assert_int_equal(ok, supported);
        if (supported)
            assert_string_equal(cimxml_op_name(r->op), r->method);
        sc_arena_free(a);
    }
}

static void test_capture_classes(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cimxml_request *r = parse_ok(a, capture("01-ecn-EnumerateClassNames"));
    assert_int_equal(r->op, CIMXML_OP_ENUMERATE_CLASS_NAMES);
    assert_null(r->class_name);
    assert_int_equal(r->deep_inheritance, CIMXML_TRUE);
    assert_int_equal(r->local_only, CIMXML_UNSET);
    assert_int_equal(r->nparams, 1);
    assert_string_equal(r->id, "4711");

    r = parse_ok(a, capture("03-ec-EnumerateClasses"));
    assert_int_equal(r->op, CIMXML_OP_ENUMERATE_CLASSES);
    assert_string_equal(r->class_name, "CIM_Dependency");
    assert_int_equal(r->deep_inheritance, CIMXML_TRUE);
    assert_int_equal(r->local_only, CIMXML_FALSE);
    assert_int_equal(r->include_qualifiers, CIMXML_FALSE);
    assert_int_equal(r->include_class_origin, CIMXML_TRUE);

    r = parse_ok(a, capture("04-gc-GetClass"));
    assert_int_equal(r->op, CIMXML_OP_GET_CLASS);
    assert_string_equal(r->class_name, "Win32_ConnectionShare");
    assert_int_equal(r->include_qualifiers, CIMXML_TRUE);
    assert_false(r->has_property_list);
    cimxml_objopts o = cimxml_request_objopts(r);
    assert_false(o.local_only);
    assert_true(o.include_qualifiers);
    assert_true(o.include_class_origin);
    const cimxml_param *p = cimxml_request_param(r, "classname");
    assert_non_null(p);
    assert_int_equal(p->kind, CIMXML_P_CLASSNAME);
    assert_int_equal(p->line, 8);

    /* GetClass defaults: LocalOnly and IncludeQualifiers true */
    r = parse_ok(a, mkreq(a, "GetClass", iparam(a, "ClassName", "<CLASSNAME NAME=\"Win32_Share\"/>")));
    o = cimxml_request_objopts(r);
    assert_true(o.local_only);
    assert_true(o.include_qualifiers);
    assert_false(o.include_class_origin);
    sc_arena_free(a);
}

static void test_capture_instances(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cimxml_request *r = parse_ok(a, capture("06-ein-EnumerateInstanceNames"));
    assert_int_equal(r->op, CIMXML_OP_ENUMERATE_INSTANCE_NAMES);
    assert_string_equal(r->class_name, "Win32_ConnectionShare");

    r = parse_ok(a, capture("08-ei-EnumerateInstances-proplist-nl-t"));
    assert_int_equal(r->op, CIMXML_OP_ENUMERATE_INSTANCES);
    assert_string_equal(r->class_name, "Win32_Share");
    assert_true(r->has_property_list);
    assert_int_equal(r->nproperty_list, 3);
    assert_string_equal(r->property_list[0], "Name");
    assert_string_equal(r->property_list[1], "Path");
    assert_string_equal(r->property_list[2], "Type");
    cimxml_objopts o = cimxml_request_objopts(r);
    assert_false(o.local_only); /* deprecated for instances: ignored */
    assert_false(o.include_qualifiers);
    assert_true(o.has_property_list);

    r = parse_ok(a, capture("10-gi-GetInstance-share"));
    assert_int_equal(r->op, CIMXML_OP_GET_INSTANCE);
    assert_string_equal(r->instance_name, "Win32_Share.Name=\"IPC$\"");

    /* reference keys: the full path of each referenced object, escaped once
     * more inside the association's path */
    r = parse_ok(a, capture("09-gi-GetInstance-assoc"));
    assert_string_equal(r->instance_name,
                        "Win32_ConnectionShare.Antecedent=\"\\\\\\\\127.0.0.1\\\\root\\\\cimv2:"
                        "Win32_Share.Name=\\\"IPC$\\\"\",Dependent=\"\\\\\\\\127.0.0.1\\\\root\\\\"
                        "cimv2:Win32_ServerConnection.ComputerName=\\\"10.0.0.5\\\",ShareName=\\\""
                        "IPC$\\\",UserName=\\\"bob\\\"\"");
    cim_objpath p, q;
    smbcim_error err = {0};
    assert_int_equal(cim_path_parse(a, r->instance_name, &p, &err), 0);
    assert_string_equal(p.class_name, "Win32_ConnectionShare");
    assert_int_equal(p.nkeys, 2);
    assert_string_equal(p.keys[1].name, "Dependent");
    assert_int_equal(cim_path_parse(a, p.keys[1].value.v.s, &q, &err), 0);
    assert_string_equal(q.server, "127.0.0.1");
    assert_string_equal(q.nspace, "root\\cimv2");
    assert_string_equal(q.class_name, "Win32_ServerConnection");
    assert_int_equal(q.nkeys, 3);
    assert_string_equal(q.keys[2].value.v.s, "bob");

    r = parse_ok(a, capture("pywbem-09-GetInstance-notfound"));
    assert_string_equal(r->instance_name, "Win32_Share.Name=\"nope\"");
    assert_int_equal(r->include_class_origin, CIMXML_UNSET);
    sc_arena_free(a);
}

static void test_capture_associations(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cimxml_request *r = parse_ok(a, capture("12-ai-Associators"));
    assert_int_equal(r->op, CIMXML_OP_ASSOCIATORS);
    assert_string_equal(r->instance_name, "Win32_Share.Name=\"IPC$\"");
    assert_null(r->object_class);
    assert_null(r->assoc_class);

    r = parse_ok(a, capture("13-ai-Associators-filters"));
    assert_string_equal(r->assoc_class, "Win32_ConnectionShare");
    assert_string_equal(r->result_class, "Win32_ServerConnection");
    assert_string_equal(r->role, "Antecedent");
    assert_string_equal(r->result_role, "Dependent");
    assert_int_equal(r->include_class_origin, CIMXML_TRUE);

    r = parse_ok(a, capture("14-ain-AssociatorNames"));
    assert_int_equal(r->op, CIMXML_OP_ASSOCIATOR_NAMES);
    assert_string_equal(r->instance_name, "Win32_ServerConnection.ComputerName=\"10.0.0.9\","
                                          "ShareName=\"Public\",UserName=\"alice\"");
    assert_string_equal(r->result_class, "Win32_Share");

    r = parse_ok(a, capture("15-ri-References"));
    assert_int_equal(r->op, CIMXML_OP_REFERENCES);
    r = parse_ok(a, capture("16-rin-ReferenceNames"));
    assert_int_equal(r->op, CIMXML_OP_REFERENCE_NAMES);
    assert_string_equal(r->result_class, "Win32_ConnectionShare");
    assert_string_equal(r->role, "Dependent");

    r = parse_ok(a, capture("pywbem-07-Associators"));
    assert_string_equal(r->result_role, "Dependent");
    assert_string_equal(r->id, "1001");

    /* class-level call: ObjectName is a CLASSNAME */
    r = parse_ok(a, mkreq(a, "AssociatorNames",
                          iparam(a, "ObjectName", "<CLASSNAME NAME=\"Win32_Share\"/>")));
    assert_string_equal(r->object_class, "Win32_Share");
    assert_null(r->instance_name);
    sc_arena_free(a);
}

static void test_capture_pull_and_query(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cimxml_request *r = parse_ok(a, capture("pywbem-01-OpenEnumerateInstances-Pull"));
    assert_int_equal(r->op, CIMXML_OP_OPEN_ENUMERATE_INSTANCES);
    assert_string_equal(r->class_name, "Win32_ConnectionShare");
    assert_true(r->has_max_object_count);
    assert_int_equal(r->max_object_count, 1);
    assert_false(r->has_operation_timeout);

    r = parse_ok(a, capture("pywbem-01-OpenEnumerateInstances-Pull#2"));
    assert_int_equal(r->op, CIMXML_OP_PULL_INSTANCES_WITH_PATH);
    assert_string_equal(r->enumeration_context, "ctx-16489");
    assert_int_equal(r->max_object_count, 1);

    r = parse_ok(a, capture("pywbem-02-OpenEnumerateInstancePaths-Pull"));
    assert_int_equal(r->op, CIMXML_OP_OPEN_ENUMERATE_INSTANCE_PATHS);
    assert_true(r->has_max_object_count);
    assert_int_equal(r->max_object_count, 0);
    r = parse_ok(a, capture("pywbem-02-OpenEnumerateInstancePaths-Pull#2"));
    assert_int_equal(r->op, CIMXML_OP_PULL_INSTANCE_PATHS);
    assert_int_equal(r->max_object_count, 10);

    r = parse_ok(a, capture("pywbem-03-OpenAssociatorInstances"));
    assert_int_equal(r->op, CIMXML_OP_OPEN_ASSOCIATOR_INSTANCES);
    assert_string_equal(r->instance_name, "Win32_Share.Name=\"IPC$\"");
    assert_string_equal(r->assoc_class, "Win32_ConnectionShare");
    r = parse_ok(a, capture("pywbem-04-OpenReferenceInstancePaths"));
    assert_int_equal(r->op, CIMXML_OP_OPEN_REFERENCE_INSTANCE_PATHS);

    r = parse_ok(a, capture("pywbem-05-CloseEnumeration#2"));
    assert_int_equal(r->op, CIMXML_OP_CLOSE_ENUMERATION);
    assert_string_equal(r->enumeration_context, "ctx-25421");

    r = parse_ok(a, capture("pywbem-06-ExecQuery-WQL"));
    assert_int_equal(r->op, CIMXML_OP_EXEC_QUERY);
    assert_string_equal(r->query_language, "WQL");
    assert_string_equal(r->query, "SELECT * FROM Win32_ConnectionShare");

    /* the other pulled operations and their parameters */
    const char *common = sc_sprintf(
        a, "%s%s%s%s%s", iparam(a, "FilterQueryLanguage", "<VALUE>DMTF:FQL</VALUE>"),
        iparam(a, "FilterQuery", "<VALUE>Name = 'x'</VALUE>"),
        iparam(a, "OperationTimeout", "<VALUE> 40 </VALUE>"),
        iparam(a, "ContinueOnError", "<VALUE>false</VALUE>"),
        iparam(a, "MaxObjectCount", "<VALUE>+5</VALUE>"));
    r = parse_ok(a, mkreq(a, "OpenReferenceInstances",
                          sc_sprintf(a, "%s%s%s%s",
                                     iparam(a, "InstanceName", "<INSTANCENAME CLASSNAME=\"Win32_Share\">"
                                            "<KEYBINDING NAME=\"Name\"><KEYVALUE>x</KEYVALUE></KEYBINDING>"
                                            "</INSTANCENAME>"),
                                     iparam(a, "PropertyList", "<VALUE.ARRAY></VALUE.ARRAY>"),
                                     iparam(a, "IncludeClassOrigin", "<VALUE>TRUE</VALUE>"), common)));
    assert_int_equal(r->op, CIMXML_OP_OPEN_REFERENCE_INSTANCES);
    assert_true(r->has_property_list);
    assert_int_equal(r->nproperty_list, 0);
    assert_string_equal(r->filter_query_language, "DMTF:FQL");
    assert_string_equal(r->filter_query, "Name = 'x'");
    assert_int_equal(r->operation_timeout, 40);
    assert_true(r->has_operation_timeout);
    assert_int_equal(r->continue_on_error, CIMXML_FALSE);
    assert_int_equal(r->max_object_count, 5);
    r = parse_ok(a, mkreq(a, "OpenQueryInstances",
                          sc_sprintf(a, "%s%s%s",
                                     iparam(a, "FilterQuery", "<VALUE>SELECT * FROM Win32_Share</VALUE>"),
                                     iparam(a, "FilterQueryLanguage", "<VALUE>WQL</VALUE>"),
                                     iparam(a, "ReturnQueryResultClass", "<VALUE>TRUE</VALUE>"))));
    assert_int_equal(r->op, CIMXML_OP_OPEN_QUERY_INSTANCES);
    assert_int_equal(r->return_query_result_class, CIMXML_TRUE);
    r = parse_ok(a, mkreq(a, "OpenAssociatorInstancePaths",
                          iparam(a, "InstanceName", "<INSTANCENAME CLASSNAME=\"Win32_Share\">"
                                 "<KEYBINDING NAME=\"Name\"><KEYVALUE>x</KEYVALUE></KEYBINDING>"
                                 "</INSTANCENAME>")));
    assert_int_equal(r->op, CIMXML_OP_OPEN_ASSOCIATOR_INSTANCE_PATHS);
    r = parse_ok(a, mkreq(a, "PullInstances",
                          sc_sprintf(a, "%s%s", iparam(a, "EnumerationContext", "<VALUE>c</VALUE>"),
                                     iparam(a, "MaxObjectCount", "<VALUE>4294967295</VALUE>"))));
    assert_int_equal(r->op, CIMXML_OP_PULL_INSTANCES);
    assert_int_equal(r->max_object_count, UINT32_MAX);
    /* NULL OperationTimeout: the server's default */
    r = parse_ok(a, mkreq(a, "OpenEnumerateInstancePaths",
                          sc_sprintf(a, "%s%s", iparam(a, "ClassName", "<CLASSNAME NAME=\"Win32_Share\"/>"),
                                     iparam(a, "OperationTimeout", ""))));
    assert_false(r->has_operation_timeout);
    assert_int_equal(cimxml_request_param(r, "OperationTimeout")->kind, CIMXML_P_NULL);
    sc_arena_free(a);
}

static void test_capture_unsupported(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cimxml_request *r;
    const char *body = capture("18-cm-InvokeMethod-params#2");
    cimxml_error e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_NOT_SUPPORTED, &r);
    assert_true(r->extrinsic);
    assert_int_equal(r->op, CIMXML_OP_EXTRINSIC);
    assert_string_equal(r->method, "SetShareInfo");
    assert_string_equal(r->target, "Win32_Share.Name=\"IPC$\"");
    assert_false(r->target_is_class);
    assert_string_equal(r->id, "4711");
    assert_int_equal(cimxml_http_status(e.kind), 200);
    assert_null(cimxml_cimerror_header(e.kind));

    static const char *const names[] = {"20-gp-GetProperty", "23-mi-ModifyInstance#2"};
    for (size_t i = 0; i < 2; i++) {
        body = capture(names[i]);
        e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_NOT_SUPPORTED, &r);
        assert_int_equal(r->op, CIMXML_OP_UNSUPPORTED);
        assert_contains(e.msg, "not supported");
    }
    /* an unknown method */
    body = mkreq(a, "Frobnicate", iparam(a, "X", "<VALUE>1</VALUE>"));
    e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_NOT_SUPPORTED, &r);
    assert_int_equal(r->op, CIMXML_OP_UNKNOWN);
    assert_string_equal(r->method, "Frobnicate");
    assert_string_equal(r->id, "77");
    assert_contains(e.msg, "Frobnicate");
    /* a static extrinsic method */
    body = "<?xml version=\"1.0\"?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"9\" "
           "PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><METHODCALL NAME=\"Create\"><LOCALCLASSPATH>"
           "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/>"
           "</LOCALNAMESPACEPATH><CLASSNAME NAME=\"Win32_Share\"/></LOCALCLASSPATH>"
           "<PARAMVALUE NAME=\"Path\" PARAMTYPE=\"string\"><VALUE>C:\\x</VALUE></PARAMVALUE>"
           "</METHODCALL></SIMPLEREQ></MESSAGE></CIM>";
    parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_NOT_SUPPORTED, &r);
    assert_true(r->target_is_class);
    assert_string_equal(r->target, "Win32_Share");
    sc_arena_free(a);
}

/* ---- CreateInstance and DeleteInstance ---------------------------------------- */

/* Where 1-based line L, column C of text is (expat counts characters, not
 * bytes, of UTF-8). */
static const char *at_pos(const char *text, unsigned line, unsigned col)
{
    const char *p = text;
    for (unsigned l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    for (unsigned c = 1; p && *p && c < col; c++)
        for (p++; (*p & 0xC0) == 0x80; p++)
            ;
    if (!p || !*p || col == 0)
        fail_msg("no line %u, column %u in:\n%.2000s", line, col, text);
    return p;
}

/* A decoded INSTANCE on one line: Class{name:type=value; ...}; type "-"
 * when absent, "[]" after it for an array, "(Class)" a REFERENCECLASS,
 * "*" an embedded object; values quoted, NULL bare, arrays {"a",NULL}.
 * Fails on a property whose fields contradict each other. */
static const char *describe(sc_arena *a, const cimxml_instance *ni)
{
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_printf(&b, "%s{", ni->class_name);
    for (size_t i = 0; i < ni->nprops; i++) {
        const cimxml_prop *p = &ni->props[i];
        if ((p->is_null && (p->value || p->nitems)) || (p->is_ref && p->is_array) ||
            (p->is_ref && strcmp(p->type, "reference") != 0) ||
            (!p->is_array && (p->items || p->nitems)) || (p->is_array && p->value) ||
            (!p->is_ref && p->reference_class) || p->line == 0 || p->col == 0)
            fail_msg("property %zu (%s) is inconsistent", i, p->name);
        sc_buf_printf(&b, "%s%s:%s%s", i ? "; " : "", p->name, p->type ? p->type : "-",
                      p->is_array ? "[]" : "");
        if (p->reference_class)
            sc_buf_printf(&b, "(%s)", p->reference_class);
        sc_buf_puts(&b, p->embedded ? "*=" : "=");
        if (p->is_null) {
            sc_buf_puts(&b, "NULL");
        } else if (p->is_array) {
            sc_buf_putc(&b, '{');
            for (size_t k = 0; k < p->nitems; k++) {
                if (k)
                    sc_buf_putc(&b, ',');
                if (p->items[k])
                    sc_buf_printf(&b, "\"%s\"", p->items[k]);
                else
                    sc_buf_puts(&b, "NULL");
            }
            sc_buf_putc(&b, '}');
        } else {
            sc_buf_printf(&b, "\"%s\"", p->value);
        }
    }
    sc_buf_putc(&b, '}');
    const char *s = sc_strndup(a, b.data, b.len);
    sc_buf_free(&b);
    return s;
}

/* Fragments of the tables below. */
#define T_INTEROP "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"interop\"/>" \
                  "</LOCALNAMESPACEPATH>"
#define T_FILTER "<INSTANCENAME CLASSNAME=\"CIM_IndicationFilter\"><KEYBINDING NAME=\"Name\">" \
                 "<KEYVALUE VALUETYPE=\"string\">f1</KEYVALUE></KEYBINDING></INSTANCENAME>"
#define T_DEST "<INSTANCENAME CLASSNAME=\"CIM_ListenerDestinationCIMXML\"><KEYBINDING " \
               "NAME=\"Name\"><KEYVALUE>d1</KEYVALUE></KEYBINDING></INSTANCENAME>"
#define T_NEW(inst) "<IPARAMVALUE NAME=\"NewInstance\">" inst "</IPARAMVALUE>"
#define T_X(props) T_NEW("<INSTANCE CLASSNAME=\"X\">" props "</INSTANCE>")

/* What CreateInstance's INSTANCE decodes to: the body wbemcli sends, then
 * each form DSP0201 allows. */
static void test_create_instance(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *body = capture("22-ci-CreateInstance#2");
    cimxml_request *r = parse_ok(a, body);
    assert_int_equal(r->op, CIMXML_OP_CREATE_INSTANCE);
    assert_string_equal(cimxml_op_name(r->op), "CreateInstance");
    assert_string_equal(describe(a, r->new_instance),
                        "Win32_Share{Name:string=\"New\"; Path:string=\"C:\\\\new\"}");
    assert_int_equal(r->new_instance->line, 4);
    assert_int_equal(r->new_instance->props[1].line, 6);
    assert_int_equal(r->new_instance->props[1].col, 1);
    const cimxml_param *p = cimxml_request_param(r, "newinstance");
    assert_non_null(p);
    assert_int_equal(p->kind, CIMXML_P_INSTANCE);
    assert_ptr_equal(p->inst, r->new_instance);
    assert_null(r->instance_name);

    static const struct {
        const char *inst;
        const char *want;
    } good[] = {
        /* scalars: the text as sent, entities decoded, not trimmed */
        {"<INSTANCE CLASSNAME=\"CIM_IndicationFilter\"><PROPERTY NAME=\"Name\" TYPE=\"string\">"
         "<VALUE> f &amp; 1 </VALUE></PROPERTY><PROPERTY NAME=\"PersistenceType\" "
         "TYPE=\"uint16\"><VALUE>2</VALUE></PROPERTY><PROPERTY NAME=\"b\" TYPE=\"boolean\">"
         "<VALUE>true</VALUE></PROPERTY><PROPERTY NAME=\"c\" TYPE=\"char16\"><VALUE>é</VALUE>"
         "</PROPERTY><PROPERTY NAME=\"r\" TYPE=\"real64\"><VALUE>1.5e3</VALUE></PROPERTY>"
         "</INSTANCE>",
         "CIM_IndicationFilter{Name:string=\" f & 1 \"; PersistenceType:uint16=\"2\"; "
         "b:boolean=\"true\"; c:char16=\"é\"; r:real64=\"1.5e3\"}"},
        /* arrays: VALUE.NULL items, an empty array, a NULL array */
        {"<INSTANCE CLASSNAME=\"X\"><PROPERTY.ARRAY NAME=\"SourceNamespaces\" TYPE=\"string\">"
         "<VALUE.ARRAY><VALUE>root/cimv2</VALUE><VALUE.NULL/><VALUE></VALUE></VALUE.ARRAY>"
         "</PROPERTY.ARRAY><PROPERTY.ARRAY NAME=\"E\" TYPE=\"uint8\"><VALUE.ARRAY/>"
         "</PROPERTY.ARRAY><PROPERTY.ARRAY NAME=\"N\" TYPE=\"sint64\"></PROPERTY.ARRAY></INSTANCE>",
         "X{SourceNamespaces:string[]={\"root/cimv2\",NULL,\"\"}; E:uint8[]={}; "
         "N:sint64[]=NULL}"},
        /* references: an instance path as InstanceName gives one, from
         * INSTANCENAME, INSTANCEPATH (the port dropped) and
         * LOCALINSTANCEPATH; a NULL reference */
        {"<INSTANCE CLASSNAME=\"CIM_IndicationSubscription\"><PROPERTY.REFERENCE NAME=\"Filter\" "
         "REFERENCECLASS=\"CIM_IndicationFilter\"><VALUE.REFERENCE>" T_FILTER "</VALUE.REFERENCE>"
         "</PROPERTY.REFERENCE><PROPERTY.REFERENCE NAME=\"Handler\"><VALUE.REFERENCE>"
         "<INSTANCEPATH><NAMESPACEPATH><HOST>h1:5988</HOST>" T_INTEROP "</NAMESPACEPATH>" T_DEST
         "</INSTANCEPATH></VALUE.REFERENCE></PROPERTY.REFERENCE><PROPERTY.REFERENCE NAME=\"L\">"
         "<VALUE.REFERENCE><LOCALINSTANCEPATH>" T_INTEROP T_FILTER "</LOCALINSTANCEPATH>"
         "</VALUE.REFERENCE></PROPERTY.REFERENCE><PROPERTY.REFERENCE NAME=\"N\">"
         "</PROPERTY.REFERENCE></INSTANCE>",
         "CIM_IndicationSubscription{Filter:reference(CIM_IndicationFilter)="
         "\"CIM_IndicationFilter.Name=\"f1\"\"; Handler:reference=\"\\\\h1\\root\\interop:"
         "CIM_ListenerDestinationCIMXML.Name=\"d1\"\"; L:reference=\"root\\interop:"
         "CIM_IndicationFilter.Name=\"f1\"\"; N:reference=NULL}"},
        /* QUALIFIERs on the instance and before each value: read past */
        {"<INSTANCE CLASSNAME=\"X\"><QUALIFIER NAME=\"Association\" TYPE=\"boolean\"><VALUE>TRUE"
         "</VALUE></QUALIFIER><QUALIFIER NAME=\"Q\" TYPE=\"string\"><VALUE.ARRAY><VALUE>a</VALUE>"
         "</VALUE.ARRAY></QUALIFIER><PROPERTY NAME=\"P\" TYPE=\"string\"><QUALIFIER NAME=\"Key\" "
         "TYPE=\"boolean\"><VALUE>TRUE</VALUE></QUALIFIER><VALUE>v</VALUE></PROPERTY>"
         "<PROPERTY.ARRAY NAME=\"A\" TYPE=\"string\"><QUALIFIER NAME=\"Q\" TYPE=\"string\"/>"
         "<VALUE.ARRAY><VALUE>a</VALUE></VALUE.ARRAY></PROPERTY.ARRAY><PROPERTY.REFERENCE "
         "NAME=\"R\"><QUALIFIER NAME=\"Q\" TYPE=\"string\"/><QUALIFIER NAME=\"Q2\" "
         "TYPE=\"string\"/><VALUE.REFERENCE>" T_FILTER "</VALUE.REFERENCE></PROPERTY.REFERENCE>"
         "</INSTANCE>",
         "X{P:string=\"v\"; A:string[]={\"a\"}; R:reference=\"CIM_IndicationFilter.Name=\"f1\"\"}"},
        /* NULL: no value, or qualifiers only; no TYPE; white space between */
        {"<INSTANCE CLASSNAME=\"X\">\n  <PROPERTY NAME=\"Query\" TYPE=\"string\"></PROPERTY>\n"
         "  <PROPERTY NAME=\"Q2\" TYPE=\"datetime\"><QUALIFIER NAME=\"Q\" TYPE=\"string\"/>"
         "</PROPERTY>\n  <PROPERTY NAME=\"U\"><VALUE>1</VALUE></PROPERTY>\n</INSTANCE>",
         "X{Query:string=NULL; Q2:datetime=NULL; U:-=\"1\"}"},
        /* embedded objects: their XML, decoded once, either spelling */
        {"<INSTANCE CLASSNAME=\"X\"><PROPERTY NAME=\"S\" TYPE=\"string\" EmbeddedObject=\"object\">"
         "<VALUE>&lt;INSTANCE CLASSNAME=&quot;Y&quot;/&gt;</VALUE></PROPERTY><PROPERTY NAME=\"T\" "
         "TYPE=\"string\" EMBEDDEDOBJECT=\"instance\"></PROPERTY></INSTANCE>",
         "X{S:string*=\"<INSTANCE CLASSNAME=\"Y\"/>\"; T:string*=NULL}"},
        /* nothing but the class; names as spelled */
        {"<INSTANCE CLASSNAME=\"X\"/>", "X{}"},
        {"<INSTANCE CLASSNAME=\"x_Y\"><PROPERTY NAME=\"_nAmE2\" TYPE=\"sint8\"><VALUE>-1</VALUE>"
         "</PROPERTY></INSTANCE>", "x_Y{_nAmE2:sint8=\"-1\"}"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        body = mkreq(a, "CreateInstance", iparam(a, "NewInstance", good[i].inst));
        r = parse_ok(a, body);
        const char *got = describe(a, r->new_instance);
        if (strcmp(got, good[i].want) != 0)
            fail_msg("case %zu:\n got %s\nwant %s", i, got, good[i].want);
        /* positions: the INSTANCE and each property element */
        const cimxml_instance *ni = r->new_instance;
        assert_true(strncmp(at_pos(body, ni->line, ni->col), "<INSTANCE ", 10) == 0);
        for (size_t k = 0; k < ni->nprops; k++)
            if (strncmp(at_pos(body, ni->props[k].line, ni->props[k].col), "<PROPERTY", 9) != 0)
                fail_msg("case %zu: property %zu not at its element", i, k);
        /* the keys of references held by properties are not InstanceName's */
        assert_int_equal(r->nstring_keys, 0);
    }
    /* exactly CIMXML_MAX_PROPS properties are taken */
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "<INSTANCE CLASSNAME=\"X\">");
    for (int i = 0; i < CIMXML_MAX_PROPS; i++)
        sc_buf_printf(&b, "<PROPERTY NAME=\"p%d\" TYPE=\"uint32\"><VALUE>%d</VALUE></PROPERTY>", i,
                      i);
    sc_buf_puts(&b, "</INSTANCE>");
    r = parse_ok(a, mkreq(a, "CreateInstance", iparam(a, "NewInstance", b.data)));
    assert_int_equal(r->new_instance->nprops, CIMXML_MAX_PROPS);
    assert_string_equal(r->new_instance->props[CIMXML_MAX_PROPS - 1].value, "255");
    sc_buf_free(&b);
    sc_arena_free(a);
}

/* CreateInstance's refusals: what the DTD forbids at the protocol level,
 * what the INSTANCE says wrongly at the CIM level; each says where. */
static void test_create_instance_refused(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    static const struct {
        const char *params;
        cimxml_errkind kind; /* CIMXML_E_CIM: CIM_ERR_INVALID_PARAMETER */
        const char *says;
        const char *at; /* what the error's line and column point at */
    } cases[] = {
        /* CIM level */
        {"", CIMXML_E_CIM, "CreateInstance needs the parameter NewInstance", "<IMETHODCALL"},
        {"<IPARAMVALUE NAME=\"NewInstance\"/>", CIMXML_E_CIM,
         "parameter NewInstance of CreateInstance must not be NULL", "<IPARAMVALUE"},
        {T_NEW("<INSTANCENAME CLASSNAME=\"X\"/>"), CIMXML_E_CIM,
         "NewInstance of CreateInstance must be an INSTANCE, not an INSTANCENAME", "<IPARAMVALUE"},
        {T_NEW("<VALUE.NAMEDINSTANCE>" T_FILTER "<INSTANCE CLASSNAME=\"X\"/></VALUE.NAMEDINSTANCE>"),
         CIMXML_E_CIM, "must be an INSTANCE, not a VALUE.NAMEDINSTANCE", "<IPARAMVALUE"},
        {T_NEW("<VALUE>x</VALUE>"), CIMXML_E_CIM, "must be an INSTANCE, not a VALUE",
         "<IPARAMVALUE"},
        {T_X("<PROPERTY NAME=\"a\" TYPE=\"string\"/><PROPERTY NAME=\"b\" TYPE=\"string\"/>"
             "<PROPERTY.ARRAY NAME=\"A\" TYPE=\"string\"/>"), CIMXML_E_CIM,
         "property A given twice in X (first at line 2, column ", "<PROPERTY.ARRAY NAME=\"A\""},
        {T_X("<PROPERTY NAME=\"1a\" TYPE=\"string\"/>"), CIMXML_E_CIM,
         "\"1a\" is not a valid property name", "<PROPERTY NAME=\"1a\""},
        {T_X("<PROPERTY.REFERENCE NAME=\"a.b\"/>"), CIMXML_E_CIM,
         "\"a.b\" is not a valid property name", "<PROPERTY.REFERENCE"},
        {T_NEW("<INSTANCE CLASSNAME=\"A.b\"/>"), CIMXML_E_CIM, "\"A.b\" is not a valid class name",
         "<INSTANCE"},
        {T_X("<PROPERTY.REFERENCE NAME=\"r\" REFERENCECLASS=\"1x\"/>"), CIMXML_E_CIM,
         "\"1x\" is not a valid class name", "<PROPERTY.REFERENCE"},
        {T_X("<PROPERTY.REFERENCE NAME=\"r\"><VALUE.REFERENCE><CLASSNAME NAME=\"Y\"/>"
             "</VALUE.REFERENCE></PROPERTY.REFERENCE>"), CIMXML_E_CIM,
         "property r refers to the class Y; a reference property names an instance",
         "<VALUE.REFERENCE>"},
        {T_X("<PROPERTY.REFERENCE NAME=\"r\"><VALUE.REFERENCE><LOCALCLASSPATH>" T_INTEROP
             "<CLASSNAME NAME=\"Y\"/></LOCALCLASSPATH></VALUE.REFERENCE></PROPERTY.REFERENCE>"),
         CIMXML_E_CIM, "property r refers to the class Y", "<VALUE.REFERENCE>"},
        {T_X("<PROPERTY.REFERENCE NAME=\"r\"><VALUE.REFERENCE><INSTANCENAME CLASSNAME=\"A\">"
             "<KEYBINDING NAME=\"k\"><KEYVALUE VALUETYPE=\"numeric\">x</KEYVALUE></KEYBINDING>"
             "</INSTANCENAME></VALUE.REFERENCE></PROPERTY.REFERENCE>"), CIMXML_E_CIM,
         "is not an integer", "<KEYVALUE"},
        /* protocol level: the DTD's content model and attributes */
        {T_X("<VALUE>1</VALUE>"), CIMXML_E_NOT_VALID,
         "unexpected element <VALUE> in <INSTANCE> (QUALIFIERs, then PROPERTY", "<VALUE>1"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\"/><QUALIFIER NAME=\"q\" TYPE=\"string\"/>"),
         CIMXML_E_NOT_VALID, "unexpected element <QUALIFIER> in <INSTANCE>", "<QUALIFIER"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\"><VALUE>1</VALUE><VALUE>2</VALUE></PROPERTY>"),
         CIMXML_E_NOT_VALID, "unexpected element <VALUE> after the value of <PROPERTY NAME=\"p\">",
         "<VALUE>2"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\"><VALUE>1</VALUE><QUALIFIER NAME=\"q\" "
             "TYPE=\"string\"/></PROPERTY>"), CIMXML_E_NOT_VALID,
         "unexpected element <QUALIFIER> after the value", "<QUALIFIER"},
        {T_X("<PROPERTY.ARRAY NAME=\"p\" TYPE=\"string\"><VALUE>1</VALUE></PROPERTY.ARRAY>"),
         CIMXML_E_NOT_VALID, "expected <VALUE.ARRAY> in <PROPERTY.ARRAY NAME=\"p\">", "<VALUE>1"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\"><VALUE.ARRAY/></PROPERTY>"), CIMXML_E_NOT_VALID,
         "expected <VALUE> in <PROPERTY NAME=\"p\">", "<VALUE.ARRAY"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\"><VALUE.NULL/></PROPERTY>"), CIMXML_E_NOT_VALID,
         "expected <VALUE> in <PROPERTY NAME=\"p\">", "<VALUE.NULL"},
        {T_X("<PROPERTY.REFERENCE NAME=\"p\"><VALUE>" T_FILTER "</VALUE></PROPERTY.REFERENCE>"),
         CIMXML_E_NOT_VALID, "expected <VALUE.REFERENCE> in <PROPERTY.REFERENCE NAME=\"p\">",
         "<VALUE><INSTANCENAME"},
        {T_X("<PROPERTY.REFERENCE NAME=\"p\"><VALUE.REFERENCE/></PROPERTY.REFERENCE>"),
         CIMXML_E_NOT_VALID, "<VALUE.REFERENCE> must hold exactly one path element",
         "<VALUE.REFERENCE"},
        {T_X("<PROPERTY.ARRAY NAME=\"p\" TYPE=\"string\"><VALUE.ARRAY><VALUE.REFERENCE>" T_FILTER
             "</VALUE.REFERENCE></VALUE.ARRAY></PROPERTY.ARRAY>"), CIMXML_E_NOT_VALID,
         "expected <VALUE> or <VALUE.NULL> in <VALUE.ARRAY>", "<VALUE.REFERENCE"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\"><VALUE>a<B/></VALUE></PROPERTY>"),
         CIMXML_E_NOT_VALID, "unexpected element <B> inside <VALUE>", "<B/>"},
        {T_X("<PROPERTY.ARRAY NAME=\"p\" TYPE=\"string\"><VALUE.ARRAY><VALUE.NULL>x</VALUE.NULL>"
             "</VALUE.ARRAY></PROPERTY.ARRAY>"), CIMXML_E_NOT_VALID,
         "unexpected text inside <VALUE.NULL>", "<VALUE.NULL>"},
        {T_NEW("<INSTANCE><PROPERTY NAME=\"p\" TYPE=\"string\"/></INSTANCE>"), CIMXML_E_NOT_VALID,
         "<INSTANCE> lacks the CLASSNAME attribute", "<INSTANCE>"},
        {T_X("<PROPERTY TYPE=\"string\"/>"), CIMXML_E_NOT_VALID,
         "<PROPERTY> lacks the NAME attribute", "<PROPERTY"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"text\"/>"), CIMXML_E_NOT_VALID,
         "<PROPERTY NAME=\"p\"> has TYPE \"text\", which is no CIM type", "<PROPERTY"},
        {T_X("<PROPERTY.ARRAY NAME=\"p\" TYPE=\"reference\"/>"), CIMXML_E_NOT_VALID,
         "which is no CIM type", "<PROPERTY.ARRAY"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\" EmbeddedObject=\"yes\"/>"), CIMXML_E_NOT_VALID,
         "EmbeddedObject of property p must be \"object\" or \"instance\", not \"yes\"",
         "<PROPERTY"},
        {T_X("stray<PROPERTY NAME=\"p\" TYPE=\"string\"/>"), CIMXML_E_NOT_VALID,
         "unexpected text inside <INSTANCE>", "<INSTANCE"},
        {T_X("<PROPERTY NAME=\"p\" TYPE=\"string\">v</PROPERTY>"), CIMXML_E_NOT_VALID,
         "unexpected text inside <PROPERTY>", "<PROPERTY"},
        {T_NEW("<INSTANCE CLASSNAME=\"X\"/><INSTANCE CLASSNAME=\"Y\"/>"), CIMXML_E_NOT_VALID,
         "<IPARAMVALUE NAME=\"NewInstance\"> holds more than one value", "<INSTANCE CLASSNAME=\"Y\""},
        /* a protocol-level fault after a CIM-level one wins */
        {T_X("<PROPERTY NAME=\"1a\" TYPE=\"string\"/><PROPERTY NAME=\"p\"><VALUE>1</VALUE><VALUE>"
             "2</VALUE></PROPERTY>"), CIMXML_E_NOT_VALID, "after the value", "<VALUE>2"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *body = mkreq(a, "CreateInstance", cases[i].params);
        int code = cases[i].kind == CIMXML_E_CIM ? CIM_ERR_INVALID_PARAMETER : 0;
        cimxml_request *r = NULL;
        cimxml_error e = parse_bad(a, body, strlen(body), cases[i].kind, code, &r);
        if (!strstr(e.msg, cases[i].says) || !strstr(e.msg, ", column "))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].says);
        const char *at = at_pos(body, e.line, e.col);
        if (strncmp(at, cases[i].at, strlen(cases[i].at)) != 0)
            fail_msg("case %zu: %s\npoints at %.60s, not %s", i, e.msg, at, cases[i].at);
        if (r)
            assert_string_equal(r->method, "CreateInstance");
    }
    /* one property more than CIMXML_MAX_PROPS */
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "<INSTANCE CLASSNAME=\"X\"><QUALIFIER NAME=\"q\" TYPE=\"string\"/>");
    for (int i = 0; i <= CIMXML_MAX_PROPS; i++)
        sc_buf_printf(&b, "<PROPERTY NAME=\"p%d\" TYPE=\"string\"/>", i);
    sc_buf_puts(&b, "</INSTANCE>");
    const char *body = mkreq(a, "CreateInstance", iparam(a, "NewInstance", b.data));
    sc_buf_free(&b);
    cimxml_error e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER,
                               NULL);
    assert_contains(e.msg, "257 properties in <INSTANCE CLASSNAME=\"X\">; at most 256 are accepted");
    assert_true(strncmp(at_pos(body, e.line, e.col), "<INSTANCE", 9) == 0);
    sc_arena_free(a);
}

/* DeleteInstance names its instance as GetInstance does. */
static void test_delete_instance(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cimxml_request *r = parse_ok(a, capture("21-di-DeleteInstance"));
    assert_int_equal(r->op, CIMXML_OP_DELETE_INSTANCE);
    assert_string_equal(cimxml_op_name(r->op), "DeleteInstance");
    assert_string_equal(r->instance_name, "Win32_Share.Name=\"IPC$\"");
    assert_int_equal(r->nstring_keys, 1);
    assert_null(r->new_instance);
    r = parse_ok(a, mkreq(a, "deleteinstance",
                          iparam(a, "InstanceName", "<VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH>"
                                                    "<HOST>h1</HOST>" T_INTEROP "</NAMESPACEPATH>"
                                                    T_FILTER "</INSTANCEPATH></VALUE.REFERENCE>")));
    assert_int_equal(r->op, CIMXML_OP_DELETE_INSTANCE);
    assert_string_equal(r->instance_name,
                        "\\\\h1\\root\\interop:CIM_IndicationFilter.Name=\"f1\"");
    static const struct {
        const char *params;
        const char *says;
    } cases[] = {
        {"", "DeleteInstance needs the parameter InstanceName"},
        {"<IPARAMVALUE NAME=\"InstanceName\"/>", "must not be NULL"},
        {"<IPARAMVALUE NAME=\"InstanceName\"><CLASSNAME NAME=\"X\"/></IPARAMVALUE>",
         "InstanceName of DeleteInstance must be an INSTANCENAME, not a CLASSNAME"},
        {"<IPARAMVALUE NAME=\"InstanceName\">" T_FILTER "</IPARAMVALUE>"
         T_NEW("<INSTANCE CLASSNAME=\"X\"/>"), "DeleteInstance has no parameter NewInstance"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *body = mkreq(a, "DeleteInstance", cases[i].params);
        cimxml_error e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER,
                                   NULL);
        if (!strstr(e.msg, cases[i].says))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].says);
    }
    /* the dispatcher's ranges of cimxml_op: the two are no pulled
     * operation, and every operation from GetClass to CloseEnumeration
     * has its name */
    assert_true(CIMXML_OP_CREATE_INSTANCE < CIMXML_OP_OPEN_ENUMERATE_INSTANCES);
    assert_true(CIMXML_OP_DELETE_INSTANCE < CIMXML_OP_OPEN_ENUMERATE_INSTANCES);
    for (int op = CIMXML_OP_GET_CLASS; op <= CIMXML_OP_CLOSE_ENUMERATION; op++)
        if (!*cimxml_op_name((cimxml_op)op))
            fail_msg("operation %d has no name", op);
    sc_arena_free(a);
}

#undef T_X
#undef T_NEW
#undef T_DEST
#undef T_FILTER
#undef T_INTEROP

/* Every request in the capture directory, when it is there. */
static void test_capture_files(void **state)
{
    (void)state;
    const char *dir = getenv("SMBCIM_CAPTURES");
    if (!dir)
        dir = "/work/shared/spec/wbemcli-captures";
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls %s/*.txt 2>/dev/null", dir);
    FILE *ls = popen(cmd, "r");
    assert_non_null(ls);
    char file[1024];
    size_t nreq = 0;
    while (fgets(file, sizeof file, ls)) {
        file[strcspn(file, "\n")] = '\0';
        FILE *f = fopen(file, "rb");
        assert_non_null(f);
        sc_buf b;
        sc_buf_init(&b);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            sc_buf_add(&b, chunk, n);
        fclose(f);
        /* each request: headers after the "request" marker, a blank line,
         * Content-Length bytes of body */
        for (const char *m = strstr(b.data, ": request, raw bytes"); m;
             m = strstr(m + 1, ": request, raw bytes")) {
            const char *hend = strstr(m, "\r\n\r\n");
            const char *cl = strstr(m, "Content-Length: ");
            if (!hend || !cl || cl > hend)
                continue;
            size_t len = (size_t)strtoul(cl + 16, NULL, 10);
            sc_arena *a = sc_arena_new();
            cimxml_request *r;
            cimxml_error err;
            bool ok = cimxml_parse_request(a, hend + 4, len, &r, &err);
            if (!ok && err.cim_code != CIM_ERR_NOT_SUPPORTED)
                fail_msg("%s: %s", file, err.msg);
            nreq++;
            sc_arena_free(a);
        }
        sc_buf_free(&b);
    }
    pclose(ls);
    if (nreq == 0)
        skip();
    assert_true(nreq >= 40);
}

/* ---- instance names -> object paths ---------------------------------------- */
static void test_path_forms(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    /* numeric, boolean and string keys; TYPE alone decides VALUETYPE */
    assert_string_equal(
        path_of(a, "<INSTANCENAME CLASSNAME=\"Num\"><KEYBINDING NAME=\"Id\"><KEYVALUE "
                   "VALUETYPE=\"numeric\"> 42 </KEYVALUE></KEYBINDING><KEYBINDING NAME=\"Neg\">"
                   "<KEYVALUE TYPE=\"sint32\">-7</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"F\">"
                   "<KEYVALUE VALUETYPE=\"boolean\">true</KEYVALUE></KEYBINDING>"
                   "<KEYBINDING NAME=\"H\"><KEYVALUE VALUETYPE=\"numeric\">0x1F</KEYVALUE>"
                   "</KEYBINDING><KEYBINDING NAME=\"S\"><KEYVALUE VALUETYPE=\"string\" "
                   "TYPE=\"uint8\"> 5</KEYVALUE></KEYBINDING></INSTANCENAME>"),
        "Num.Id=42,Neg=-7,F=TRUE,H=0x1F,S=\" 5\"");
    /* quotes and backslashes escaped as the path parser reads them */
    const char *p = path_of(a, "<INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\">"
                               "<KEYVALUE>say \"hi\" C:\\dir\\ &amp; &lt;x&gt; 'q'</KEYVALUE>"
                               "</KEYBINDING></INSTANCENAME>");
    assert_string_equal(p, "Win32_Share.Name=\"say \\\"hi\\\" C:\\\\dir\\\\ & <x> 'q'\"");
    cim_objpath op;
    smbcim_error err = {0};
    assert_int_equal(cim_path_parse(a, p, &op, &err), 0);
    assert_string_equal(op.keys[0].value.v.s, "say \"hi\" C:\\dir\\ & <x> 'q'");
    /* single-key shorthand, singleton */
    assert_string_equal(path_of(a, "<INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYVALUE "
                                   "VALUETYPE=\"string\">x</KEYVALUE></INSTANCENAME>"),
                        "Win32_Share=\"x\"");
    assert_string_equal(path_of(a, "<INSTANCENAME CLASSNAME=\"Single\"></INSTANCENAME>"),
                        "Single=@");
    /* reference forms: LOCALINSTANCEPATH, bare INSTANCENAME, host:port,
     * an IPv6 host, a host name with odd characters */
    const char *share = "<INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\">"
                        "<KEYVALUE>a\\b</KEYVALUE></KEYBINDING></INSTANCENAME>";
    const char *lns = "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/>"
                      "</LOCALNAMESPACEPATH>";
    assert_string_equal(
        path_of(a, sc_sprintf(a, "<INSTANCENAME CLASSNAME=\"A\"><KEYBINDING NAME=\"R\">"
                                 "<VALUE.REFERENCE><LOCALINSTANCEPATH>%s%s</LOCALINSTANCEPATH>"
                                 "</VALUE.REFERENCE></KEYBINDING><KEYBINDING NAME=\"B\">"
                                 "<VALUE.REFERENCE>%s</VALUE.REFERENCE></KEYBINDING></INSTANCENAME>",
                              lns, share, share)),
        "A.R=\"root\\\\cimv2:Win32_Share.Name=\\\"a\\\\\\\\b\\\"\",B=\"Win32_Share.Name=\\\"a\\\\\\\\b\\\"\"");
    static const struct {
        const char *host, *server;
    } hosts[] = {{"srv.example.com:5988", "srv.example.com"}, {" fs01 ", "fs01"},
                 {"[::1]:5989", "."}, {"fe80::1", "."}, {"a\\b", "."}, {"", "."},
                 {"x:y", "."}};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        const char *path = path_of(
            a, sc_sprintf(a, "<INSTANCENAME CLASSNAME=\"A\"><KEYBINDING NAME=\"R\"><VALUE.REFERENCE>"
                             "<INSTANCEPATH><NAMESPACEPATH><HOST>%s</HOST>%s</NAMESPACEPATH>%s"
                             "</INSTANCEPATH></VALUE.REFERENCE></KEYBINDING></INSTANCENAME>",
                          hosts[i].host, lns, share));
        assert_int_equal(cim_path_parse(a, path, &op, &err), 0);
        cim_objpath inner;
        if (cim_path_parse(a, op.keys[0].value.v.s, &inner, &err) != 0)
            fail_msg("%s: %s", path, err.msg);
        assert_string_equal(inner.server, hosts[i].server);
        assert_string_equal(inner.keys[0].value.v.s, "a\\b");
    }
    /* a reference as the whole InstanceName, a class reference as ObjectName */
    cimxml_request *r = parse_ok(a, mkreq(a, "References",
        iparam(a, "ObjectName", sc_sprintf(a, "<VALUE.REFERENCE><LOCALINSTANCEPATH>%s%s"
                                              "</LOCALINSTANCEPATH></VALUE.REFERENCE>", lns, share))));
    assert_string_equal(r->instance_name, "root\\cimv2:Win32_Share.Name=\"a\\\\b\"");
    r = parse_ok(a, mkreq(a, "References",
        iparam(a, "ObjectName", sc_sprintf(a, "<VALUE.REFERENCE><LOCALCLASSPATH>%s<CLASSNAME "
                                              "NAME=\"Win32_Share\"/></LOCALCLASSPATH></VALUE.REFERENCE>",
                                           lns))));
    assert_string_equal(r->object_class, "Win32_Share");
    /* AssocClass given as a VALUE: DSP0201 says CLASSNAME (issue 12 #10) */
    const char *body = mkreq(a, "AssociatorNames", sc_sprintf(a, "%s%s",
        iparam(a, "ObjectName", share), iparam(a, "AssocClass", "<VALUE> Win32_ConnectionShare </VALUE>")));
    cimxml_error e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER, &r);
    assert_non_null(strstr(e.msg, "AssocClass of AssociatorNames must be a CLASSNAME, not a VALUE"));
    /* the keys given as string KEYVALUEs are listed, for the server to
     * refuse them where the class says REF */
    r = parse_ok(a, mkreq(a, "GetInstance", iparam(a, "InstanceName",
        "<INSTANCENAME CLASSNAME=\"Win32_ConnectionShare\"><KEYBINDING NAME=\"Antecedent\">"
        "<KEYVALUE>Win32_Share.Name=&quot;x&quot;</KEYVALUE></KEYBINDING><KEYBINDING "
        "NAME=\"Dependent\"><VALUE.REFERENCE><INSTANCENAME CLASSNAME=\"Win32_ServerConnection\">"
        "<KEYBINDING NAME=\"UserName\"><KEYVALUE>u</KEYVALUE></KEYBINDING></INSTANCENAME>"
        "</VALUE.REFERENCE></KEYBINDING></INSTANCENAME>")));
    assert_int_equal(r->nstring_keys, 1);
    assert_string_equal(r->string_keys[0], "Antecedent");
    sc_arena_free(a);
}

/* ---- refusals ---------------------------------------------------------------- */
static void test_refuse_doctype(void **state)
{
    (void)state;
    const char *laughs =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE CIM [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "]>\n"
        "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
        "<SIMPLEREQ><IMETHODCALL NAME=\"ExecQuery\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
        "</LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"Query\"><VALUE>&lol3;</VALUE></IPARAMVALUE>"
        "</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>";
    cimxml_error e = bad(laughs, CIMXML_E_NOT_VALID, 0);
    assert_contains(e.msg, "DOCTYPE");
    assert_int_equal(e.line, 2);
    assert_int_equal(cimxml_http_status(e.kind), 400);
    assert_string_equal(cimxml_cimerror_header(e.kind), "request-not-valid");
    /* an external DTD reference too */
    e = bad("<?xml version=\"1.0\"?><!DOCTYPE CIM SYSTEM \"file:///etc/passwd\"><CIM/>",
            CIMXML_E_NOT_VALID, 0);
    assert_contains(e.msg, "DOCTYPE");
    /* an undeclared entity is not well-formed */
    bad("<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">&xxe;</CIM>", CIMXML_E_NOT_WELL_FORMED, 0);
}

static void test_refuse_malformed(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *body = capture("09-gi-GetInstance-assoc");
    /* every truncation of a request is refused as not well-formed */
    size_t len = strlen(body);
    for (size_t cut = 0; cut < len - 2; cut += 7) {
        cimxml_request *r;
        cimxml_error e;
        assert_false(cimxml_parse_request(a, body, cut, &r, &e));
        assert_null(r);
        if (e.kind != CIMXML_E_NOT_WELL_FORMED)
            fail_msg("cut at %zu: kind %d %s", cut, e.kind, e.msg);
    }
    cimxml_error e = parse_bad(a, body, len / 2, CIMXML_E_NOT_WELL_FORMED, 0, NULL);
    assert_contains(e.msg, "not well-formed");
    assert_int_equal(e.line, 7);
    assert_string_equal(cimxml_cimerror_header(e.kind), "request-not-well-formed");
    parse_bad(a, "", 0, CIMXML_E_NOT_WELL_FORMED, 0, NULL);
    parse_bad(a, NULL, 0, CIMXML_E_NOT_WELL_FORMED, 0, NULL);
    parse_bad(a, "<CIM>\xff\xfe</CIM>", 11, CIMXML_E_NOT_WELL_FORMED, 0, NULL);
    /* wbemcli's unescaped '&' in a key value */
    bad(mkreq(a, "GetInstance", iparam(a, "InstanceName", "<INSTANCENAME CLASSNAME=\"Win32_Share\">"
                                       "<KEYBINDING NAME=\"Name\"><KEYVALUE>a&b</KEYVALUE>"
                                       "</KEYBINDING></INSTANCENAME>")),
        CIMXML_E_NOT_WELL_FORMED, 0);
    /* an embedded NUL */
    const char nul[] = "<CIM CIMVERSION=\"2.0\"\0 DTDVERSION=\"2.0\"/>";
    parse_bad(a, nul, sizeof nul - 1, CIMXML_E_NOT_WELL_FORMED, 0, NULL);
    sc_arena_free(a);
}

static void test_refuse_structure(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *cn = iparam(a, "ClassName", "<CLASSNAME NAME=\"Win32_Share\"/>");
    static const char *const env =
        "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
        "<SIMPLEREQ><IMETHODCALL NAME=\"EnumerateInstanceNames\">%s%s</IMETHODCALL></SIMPLEREQ>"
        "</MESSAGE></CIM>";
    /* namespace structure */
    static const char *const nss[] = {
        "",                                                           /* none */
        "<LOCALNAMESPACEPATH></LOCALNAMESPACEPATH>",                   /* empty */
        "<LOCALNAMESPACEPATH><NAMESPACE/></LOCALNAMESPACEPATH>",       /* no NAME */
        "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"><X/></NAMESPACE></LOCALNAMESPACEPATH>",
        "<LOCALNAMESPACEPATH>root/cimv2</LOCALNAMESPACEPATH>",         /* text */
        "<LOCALNAMESPACEPATH><CLASSNAME NAME=\"root\"/></LOCALNAMESPACEPATH>",
        "<NAMESPACE NAME=\"root\"/>",                                   /* no wrapper */
    };
    for (size_t i = 0; i < sizeof nss / sizeof nss[0]; i++) {
        cimxml_error e = bad(sc_sprintf(a, env, nss[i], cn), CIMXML_E_NOT_VALID, 0);
        if (e.line != 1 || e.col < 10)
            fail_msg("case %zu: %s", i, e.msg);
    }
    /* a namespace name the path syntax cannot carry */
    bad(sc_sprintf(a, env, "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"ro ot\"/></LOCALNAMESPACEPATH>", cn),
        CIMXML_E_CIM, CIM_ERR_INVALID_NAMESPACE);
    /* namespace reported as given */
    cimxml_request *r = parse_ok(a, sc_sprintf(a, env,
        "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root/interop\"/></LOCALNAMESPACEPATH>", cn));
    assert_string_equal(r->nspace, "root/interop");

    /* envelope */
    static const struct {
        const char *body;
        cimxml_errkind kind;
        const char *what;
    } cases[] = {
        {"<MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"/>", CIMXML_E_NOT_VALID, "root element"},
        {"<CIM DTDVERSION=\"2.0\"><MESSAGE/></CIM>", CIMXML_E_NOT_VALID, "CIMVERSION"},
        {"<CIM CIMVERSION=\"3.0\" DTDVERSION=\"2.0\"/>", CIMXML_E_UNSUPPORTED_CIM_VERSION, "3.0"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"1.1\"/>", CIMXML_E_UNSUPPORTED_DTD_VERSION, "1.1"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"/>", CIMXML_E_NOT_VALID, "MESSAGE"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"2.0\">"
         "<SIMPLEREQ/></MESSAGE></CIM>", CIMXML_E_UNSUPPORTED_PROTOCOL_VERSION, "2.0"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE PROTOCOLVERSION=\"1.0\">"
         "<SIMPLEREQ/></MESSAGE></CIM>", CIMXML_E_NOT_VALID, "ID"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
         "<MULTIREQ/></MESSAGE></CIM>", CIMXML_E_MULTIPLE_REQUESTS, "batched"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
         "<SIMPLERSP/></MESSAGE></CIM>", CIMXML_E_NOT_VALID, "SIMPLEREQ"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
         "<SIMPLEREQ></SIMPLEREQ></MESSAGE></CIM>", CIMXML_E_NOT_VALID, "IMETHODCALL"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
         "<SIMPLEREQ><IMETHODCALL><LOCALNAMESPACEPATH><NAMESPACE NAME=\"r\"/></LOCALNAMESPACEPATH>"
         "</IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>", CIMXML_E_NOT_VALID, "NAME"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cimxml_error e = bad(cases[i].body, cases[i].kind, 0);
        assert_contains(e.msg, cases[i].what);
        assert_int_equal(cimxml_http_status(e.kind),
                         cases[i].kind == CIMXML_E_NOT_VALID ? 400 : 501);
    }
    assert_string_equal(cimxml_cimerror_header(CIMXML_E_MULTIPLE_REQUESTS),
                        "multiple-requests-unsupported");
    assert_string_equal(cimxml_cimerror_header(CIMXML_E_UNSUPPORTED_PROTOCOL_VERSION),
                        "unsupported-protocol-version");
    /* CORRELATORs before the call are skipped */
    parse_ok(a, "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
                "<SIMPLEREQ><CORRELATOR NAME=\"c\" TYPE=\"string\"><VALUE>x</VALUE></CORRELATOR>"
                "<IMETHODCALL NAME=\"EnumerateClassNames\"><LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/>"
                "</LOCALNAMESPACEPATH></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>");

    /* parameter structure */
    static const char *const params[] = {
        "<IPARAMVALUE><VALUE>x</VALUE></IPARAMVALUE>",                        /* no NAME */
        "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"A\"/><CLASSNAME NAME=\"B\"/></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"ClassName\"><FOO/></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"ClassName\">text<CLASSNAME NAME=\"A\"/></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME/></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"PropertyList\"><VALUE.ARRAY><VALUE>a</VALUE><X/></VALUE.ARRAY></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"PropertyList\"><VALUE.ARRAY><VALUE><VALUE/></VALUE></VALUE.ARRAY></IPARAMVALUE>",
        "<PARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"A\"/></PARAMVALUE>",
        "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING NAME=\"k\">"
        "</KEYBINDING></INSTANCENAME></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING NAME=\"k\">"
        "<KEYVALUE VALUETYPE=\"float\">1</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYVALUE>1</KEYVALUE>"
        "<KEYVALUE>2</KEYVALUE></INSTANCENAME></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME><KEYVALUE>1</KEYVALUE></INSTANCENAME></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING NAME=\"k\">"
        "<VALUE.REFERENCE><INSTANCEPATH><INSTANCENAME CLASSNAME=\"B\"/></INSTANCEPATH>"
        "</VALUE.REFERENCE></KEYBINDING></INSTANCENAME></IPARAMVALUE>",
        "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING NAME=\"k\">"
        "<VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><LOCALNAMESPACEPATH><NAMESPACE NAME=\"r\"/>"
        "</LOCALNAMESPACEPATH></NAMESPACEPATH><INSTANCENAME CLASSNAME=\"B\"/></INSTANCEPATH>"
        "</VALUE.REFERENCE></KEYBINDING></INSTANCENAME></IPARAMVALUE>",
    };
    const char *lns = "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/></LOCALNAMESPACEPATH>";
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        cimxml_error e = bad(sc_sprintf(a, env, lns, params[i]), CIMXML_E_NOT_VALID, 0);
        if (e.line != 1 || e.col < 100)
            fail_msg("param case %zu: %s", i, e.msg);
    }
    sc_arena_free(a);
}

static void test_refuse_limits(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    /* nesting: 40 levels of anything */
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_puts(&b, "<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">");
    for (int i = 0; i < 40; i++)
        sc_buf_puts(&b, "<X>");
    for (int i = 0; i < 40; i++)
        sc_buf_puts(&b, "</X>");
    sc_buf_puts(&b, "</CIM>");
    cimxml_error e = bad(b.data, CIMXML_E_NOT_VALID, 0);
    assert_contains(e.msg, "nested deeper than 32");
    /* at the 32nd <X>, the 33rd level */
    assert_int_equal(e.col, strlen("<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">") + 3 * 31 + 1);
    /* nesting within the limit but references nested too deeply: CIM level */
    sc_buf_reset(&b);
    for (int i = 0; i < 6; i++)
        sc_buf_printf(&b, "<INSTANCENAME CLASSNAME=\"C%d\"><KEYBINDING NAME=\"R\"><VALUE.REFERENCE>", i);
    sc_buf_puts(&b, "<INSTANCENAME CLASSNAME=\"Leaf\"><KEYBINDING NAME=\"k\"><KEYVALUE>\\</KEYVALUE>"
                    "</KEYBINDING></INSTANCENAME>");
    for (int i = 0; i < 6; i++)
        sc_buf_puts(&b, "</VALUE.REFERENCE></KEYBINDING></INSTANCENAME>");
    e = bad(mkreq(a, "GetInstance", iparam(a, "InstanceName", b.data)), CIMXML_E_CIM,
            CIM_ERR_INVALID_PARAMETER);
    assert_contains(e.msg, "nested deeper");
    /* four levels are fine, and escape right */
    sc_buf_reset(&b);
    for (int i = 0; i < 4; i++)
        sc_buf_printf(&b, "<INSTANCENAME CLASSNAME=\"C%d\"><KEYBINDING NAME=\"R\"><VALUE.REFERENCE>", i);
    sc_buf_puts(&b, "<INSTANCENAME CLASSNAME=\"Leaf\"><KEYBINDING NAME=\"k\"><KEYVALUE>\\\"</KEYVALUE>"
                    "</KEYBINDING></INSTANCENAME>");
    for (int i = 0; i < 4; i++)
        sc_buf_puts(&b, "</VALUE.REFERENCE></KEYBINDING></INSTANCENAME>");
    const char *path = path_of(a, b.data);
    for (int depth = 0; depth < 5; depth++) {
        cim_objpath p;
        smbcim_error err = {0};
        if (cim_path_parse(a, path, &p, &err) != 0)
            fail_msg("depth %d: %s: %s", depth, path, err.msg);
        assert_int_equal(p.nkeys, 1);
        path = p.keys[0].value.v.s;
    }
    assert_string_equal(path, "\\\"");
    /* element count */
    sc_buf_reset(&b);
    sc_buf_puts(&b, "<VALUE.ARRAY>");
    for (int i = 0; i < CIMXML_MAX_ELEMENTS; i++)
        sc_buf_puts(&b, "<VALUE>p</VALUE>");
    sc_buf_puts(&b, "</VALUE.ARRAY>");
    e = bad(mkreq(a, "EnumerateInstances", iparam(a, "PropertyList", b.data)), CIMXML_E_NOT_VALID, 0);
    assert_contains(e.msg, "more than");
    /* parameter count: 64 are looked at (and found to be twice given),
     * 65 or 19,990 are refused before any duplicate check */
    static const int counts[] = {64, 65, 19990};
    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
        int n = counts[ci];
        sc_buf_reset(&b);
        sc_buf_puts(&b, "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"A\"/></IPARAMVALUE>");
        for (int i = 1; i < n; i++)
            sc_buf_printf(&b, "<IPARAMVALUE NAME=\"P%d\"/>", i % 5);
        e = bad(mkreq(a, "GetClass", b.data), CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER);
        assert_contains(e.msg, n == 64 ? "no parameter P1" : "at most 64 are accepted");
    }
    sc_buf_reset(&b);
    sc_buf_puts(&b, "<METHODCALL NAME=\"GetAccessMask\"><LOCALINSTANCEPATH>"
                    "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/>"
                    "</LOCALNAMESPACEPATH><INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING "
                    "NAME=\"Name\"><KEYVALUE>x</KEYVALUE></KEYBINDING></INSTANCENAME>"
                    "</LOCALINSTANCEPATH>");
    for (int i = 0; i < 65; i++)
        sc_buf_puts(&b, "<PARAMVALUE NAME=\"p\"/>");
    sc_buf_puts(&b, "</METHODCALL>");
    e = bad(sc_sprintf(a, "<?xml version=\"1.0\"?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">"
                          "<MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ>%s</SIMPLEREQ>"
                          "</MESSAGE></CIM>", b.data),
            CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER);
    assert_contains(e.msg, "65 parameters in <METHODCALL>");
    sc_buf_free(&b);
    sc_arena_free(a);
}

static void test_refuse_parameters(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    const char *cn = iparam(a, "ClassName", "<CLASSNAME NAME=\"Win32_Share\"/>");
    const char *inst = iparam(a, "InstanceName", "<INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING "
                                                 "NAME=\"Name\"><KEYVALUE>x</KEYVALUE></KEYBINDING></INSTANCENAME>");
    static const struct {
        const char *method;
        int params; /* 0: cn + extra, 1: inst + extra, 2: extra only */
        const char *extra;
        const char *what;
    } cases[] = {
        {"GetClass", 0, "<IPARAMVALUE NAME=\"Foo\"><VALUE>1</VALUE></IPARAMVALUE>", "no parameter Foo"},
        {"GetClass", 0, "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>maybe</VALUE></IPARAMVALUE>", "TRUE or FALSE"},
        {"GetClass", 0, "<IPARAMVALUE NAME=\"classname\"><CLASSNAME NAME=\"X\"/></IPARAMVALUE>", "twice"},
        {"GetClass", 2, "", "needs the parameter ClassName"},
        {"GetClass", 2, "<IPARAMVALUE NAME=\"ClassName\"/>", "must not be NULL"},
        {"GetClass", 2, "<IPARAMVALUE NAME=\"ClassName\"><CLASSNAME NAME=\"1abc\"/></IPARAMVALUE>", "class name"},
        {"GetClass", 2, "<IPARAMVALUE NAME=\"ClassName\"><VALUE>Win32_Share</VALUE></IPARAMVALUE>",
         "must be a CLASSNAME, not a VALUE"},
        {"GetClass", 0, "<IPARAMVALUE NAME=\"PropertyList\"><VALUE>Name</VALUE></IPARAMVALUE>", "VALUE.ARRAY"},
        {"GetClass", 0, "<IPARAMVALUE NAME=\"PropertyList\"><VALUE.ARRAY><VALUE.NULL/></VALUE.ARRAY>"
                        "</IPARAMVALUE>", "NULL entry"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><CLASSNAME NAME=\"X\"/></IPARAMVALUE>",
         "INSTANCENAME"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING "
                           "NAME=\"k\"><KEYVALUE VALUETYPE=\"numeric\">1.5</KEYVALUE></KEYBINDING>"
                           "</INSTANCENAME></IPARAMVALUE>", "integer"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING "
                           "NAME=\"k\"><KEYVALUE VALUETYPE=\"numeric\">99999999999999999999</KEYVALUE>"
                           "</KEYBINDING></INSTANCENAME></IPARAMVALUE>", "integer"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING "
                           "NAME=\"k\"><KEYVALUE VALUETYPE=\"boolean\">yes</KEYVALUE></KEYBINDING>"
                           "</INSTANCENAME></IPARAMVALUE>", "boolean"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING "
                           "NAME=\"k\"><KEYVALUE>1</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"K\"><KEYVALUE>"
                           "2</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>", "given twice"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A\"><KEYBINDING "
                           "NAME=\"k=1,j\"><KEYVALUE>1</KEYVALUE></KEYBINDING></INSTANCENAME></IPARAMVALUE>",
         "key name"},
        {"GetInstance", 2, "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME CLASSNAME=\"A.b\">"
                           "</INSTANCENAME></IPARAMVALUE>", "class name"},
        {"GetInstance", 1, "<IPARAMVALUE NAME=\"NewInstance\"><INSTANCE CLASSNAME=\"A\"/></IPARAMVALUE>",
         "no parameter NewInstance"},
        {"EnumerateInstances", 0, "<IPARAMVALUE NAME=\"DeepInheritance\"><CLASSNAME NAME=\"X\"/></IPARAMVALUE>",
         "TRUE or FALSE"},
        {"Associators", 2, "<IPARAMVALUE NAME=\"ObjectName\"><VALUE>Win32_Share.Name=\"x\"</VALUE></IPARAMVALUE>",
         "INSTANCENAME or a CLASSNAME"},
        {"Associators", 1, "", "no parameter InstanceName"},
        {"ExecQuery", 2, "<IPARAMVALUE NAME=\"Query\"><VALUE>SELECT</VALUE></IPARAMVALUE>", "QueryLanguage"},
        {"PullInstancesWithPath", 2, "<IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>c</VALUE></IPARAMVALUE>",
         "MaxObjectCount"},
        {"PullInstancePaths", 2, "<IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>c</VALUE></IPARAMVALUE>"
                                 "<IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>-1</VALUE></IPARAMVALUE>",
         "unsigned 32-bit"},
        {"PullInstancePaths", 2, "<IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>c</VALUE></IPARAMVALUE>"
                                 "<IPARAMVALUE NAME=\"MaxObjectCount\"><VALUE>4294967296</VALUE></IPARAMVALUE>",
         "unsigned 32-bit"},
        {"PullInstances", 2, "<IPARAMVALUE NAME=\"EnumerationContext\"><VALUE>c</VALUE></IPARAMVALUE>"
                             "<IPARAMVALUE NAME=\"MaxObjectCount\"/>", "must not be NULL"},
        {"CloseEnumeration", 2, "<IPARAMVALUE NAME=\"EnumerationContext\"><VALUE.ARRAY/></IPARAMVALUE>",
         "a VALUE"},
        {"OpenEnumerateInstances", 0, "<IPARAMVALUE NAME=\"LocalOnly\"><VALUE>TRUE</VALUE></IPARAMVALUE>",
         "no parameter LocalOnly"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *params = sc_sprintf(a, "%s%s", cases[i].params == 0 ? cn
                                                   : cases[i].params == 1 ? inst : "",
                                        cases[i].extra);
        cimxml_request *r;
        const char *body = mkreq(a, cases[i].method, params);
        cimxml_error e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER, &r);
        if (!strstr(e.msg, cases[i].what))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, cases[i].what);
        assert_string_equal(r->method, cases[i].method);
        assert_string_equal(r->id, "77");
    }
    /* a protocol-level fault after a CIM-level one wins */
    bad(mkreq(a, "GetClass", "<IPARAMVALUE NAME=\"Foo\"><VALUE>1</VALUE></IPARAMVALUE>"
                             "<IPARAMVALUE NAME=\"ClassName\"><BAR/></IPARAMVALUE>"),
        CIMXML_E_NOT_VALID, 0);
    /* names are matched case-insensitively, values of booleans too */
    cimxml_request *r = parse_ok(a, mkreq(a, "enumerateinstances",
        sc_sprintf(a, "%s%s", cn, iparam(a, "deepinheritance", "<VALUE> False\n</VALUE>"))));
    assert_int_equal(r->op, CIMXML_OP_ENUMERATE_INSTANCES);
    assert_int_equal(r->deep_inheritance, CIMXML_FALSE);
    assert_string_equal(r->method, "enumerateinstances");
    sc_arena_free(a);
}

/* ---- writer ---------------------------------------------------------------- */
static void test_write_enumerate_instances(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fixture("fs01.json");
    smbcim_result *res;
    smbcim_error err = {0};
    assert_int_equal(smbcim_enum_instances(ctx, "Win32_ConnectionShare", &res, &err), 0);
    assert_true(res->count >= 8);
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ctx, NULL);
    cimxml_objopts o = {.include_class_origin = true};
    cimxml_begin_response(&w, "4711", "EnumerateInstances", false);
    cimxml_begin_ireturn(&w);
    for (size_t i = 0; i < res->count; i++)
        cimxml_put_named_instance(&w, res->instances[i], &o);
    cimxml_end_ireturn(&w);
    cimxml_end_response(&w, false);
    assert_true(cimxml_writer_ok(&w));
    check_dialect(out.data);
    size_t nel;
    char *c = xml_canon(out.data, &nel);
    assert_int_equal(count(c, "<VALUE.NAMEDINSTANCE>"), res->count);
    assert_contains(c, "<CIM CIMVERSION=2.0 DTDVERSION=2.0><MESSAGE ID=4711 PROTOCOLVERSION=1.0>"
                       "<SIMPLERSP><IMETHODRESPONSE NAME=EnumerateInstances><IRETURNVALUE>");
    /* the association's name: two reference keys with full paths */
    assert_contains(c, "<INSTANCENAME CLASSNAME=Win32_ConnectionShare><KEYBINDING NAME=Antecedent>"
                       "<VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>FS01</HOST>"
                       "<LOCALNAMESPACEPATH><NAMESPACE NAME=root></NAMESPACE><NAMESPACE NAME=cimv2>"
                       "</NAMESPACE></LOCALNAMESPACEPATH></NAMESPACEPATH><INSTANCENAME CLASSNAME="
                       "Win32_Share><KEYBINDING NAME=Name><KEYVALUE VALUETYPE=string TYPE=string>");
    assert_contains(c, "<INSTANCENAME CLASSNAME=Win32_ServerConnection><KEYBINDING NAME=ComputerName>"
                       "<KEYVALUE VALUETYPE=string TYPE=string>10.0.0.5</KEYVALUE></KEYBINDING>"
                       "<KEYBINDING NAME=ShareName><KEYVALUE VALUETYPE=string TYPE=string>IPC$"
                       "</KEYVALUE></KEYBINDING><KEYBINDING NAME=UserName><KEYVALUE VALUETYPE=string "
                       "TYPE=string>alice</KEYVALUE></KEYBINDING></INSTANCENAME>");
    assert_contains(c, "<PROPERTY.REFERENCE NAME=Antecedent REFERENCECLASS=Win32_Share "
                       "CLASSORIGIN=CIM_Dependency><VALUE.REFERENCE><INSTANCEPATH>");
    assert_contains(c, ">Données<");
    assert_contains(c, ">[fe80::1]<");
    /* every key value of every instance appears */
    for (size_t i = 0; i < res->count; i++) {
        for (size_t k = 0; k < 2; k++) {
            cim_objpath p;
            sc_arena *a = sc_arena_new();
            assert_int_equal(cim_path_parse(a, res->instances[i]->values[k].v.s, &p, &err), 0);
            /* the REF text spells "computername" as Windows does; CIM-XML
             * names each key as its class declares it */
            assert_int_equal(cim_path_resolve(a, &p, smbcim_class_find(ctx, p.class_name), &err),
                             0);
            for (size_t j = 0; j < p.nkeys; j++) {
                char *want = sc_sprintf(a, "<KEYBINDING NAME=%s><KEYVALUE VALUETYPE=string TYPE=string>"
                                           "%s</KEYVALUE>", p.keys[j].name, p.keys[j].value.v.s);
                assert_contains(c, want);
            }
            sc_arena_free(a);
        }
    }
    free(c);

    /* the same instances as pulled items, with the pull tail */
    sc_buf_reset(&out);
    cimxml_begin_response(&w, "1001", "OpenEnumerateInstances", false);
    cimxml_begin_ireturn(&w);
    cimxml_put_instance_with_path(&w, res->instances[0], NULL);
    cimxml_end_ireturn(&w);
    cimxml_put_pull_tail(&w, "ctx-1", false);
    cimxml_end_response(&w, false);
    check_dialect(out.data);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "</IRETURNVALUE><PARAMVALUE NAME=EnumerationContext PARAMTYPE=string><VALUE>"
                       "ctx-1</VALUE></PARAMVALUE><PARAMVALUE NAME=EndOfSequence PARAMTYPE=boolean>"
                       "<VALUE>FALSE</VALUE></PARAMVALUE></IMETHODRESPONSE>");
    assert_contains(c, "<VALUE.INSTANCEWITHPATH><INSTANCEPATH><NAMESPACEPATH><HOST>FS01</HOST>");
    assert_lacks(c, "CLASSORIGIN");
    free(c);
    sc_buf_reset(&out);
    cimxml_begin_response(&w, "1001", "PullInstancePaths", false);
    cimxml_begin_ireturn(&w);
    cimxml_end_ireturn(&w);
    cimxml_put_pull_tail(&w, NULL, true);
    cimxml_end_response(&w, false);
    check_dialect(out.data);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<IRETURNVALUE></IRETURNVALUE><PARAMVALUE NAME=EnumerationContext "
                       "PARAMTYPE=string></PARAMVALUE><PARAMVALUE NAME=EndOfSequence "
                       "PARAMTYPE=boolean><VALUE>TRUE</VALUE></PARAMVALUE>");
    free(c);

    /* Associators / AssociatorNames items */
    sc_buf_reset(&out);
    cimxml_begin_response(&w, "1", "Associators", false);
    cimxml_begin_ireturn(&w);
    cimxml_put_object_with_path(&w, res->instances[0], NULL);
    cimxml_put_object_path(&w, res->instances[1]);
    cimxml_end_ireturn(&w);
    cimxml_end_response(&w, false);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<VALUE.OBJECTWITHPATH><INSTANCEPATH><NAMESPACEPATH><HOST>FS01</HOST>");
    assert_contains(c, "</INSTANCEPATH><INSTANCE CLASSNAME=Win32_ConnectionShare><PROPERTY.REFERENCE");
    assert_contains(c, "<OBJECTPATH><INSTANCEPATH><NAMESPACEPATH>");
    free(c);
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    sc_buf_free(&out);
    smbcim_result_free(res);
    smbcim_close(ctx);
}

/* INSTANCENAME written for every instance of a fixture, read back by the
 * request parser, gives a path the engine resolves to the same instance. */
static void roundtrip_fixture(const char *fixture, const char *host)
{
    smbcim_ctx *ctx = open_fixture(fixture);
    static const char *const roots[] = {"CIM_ManagedSystemElement", "CIM_Dependency"};
    size_t n = 0;
    for (size_t k = 0; k < 2; k++) {
        smbcim_result *res;
        smbcim_error err = {0};
        assert_int_equal(smbcim_enum_instances(ctx, roots[k], &res, &err), 0);
        for (size_t i = 0; i < res->count; i++, n++) {
            const cim_instance *inst = res->instances[i];
            sc_buf out;
            sc_buf_init(&out);
            cimxml_writer w;
            cimxml_writer_init(&w, &out, ctx, host);
            cimxml_put_instancename(&w, inst);
            assert_true(cimxml_writer_ok(&w));
            sc_arena *a = sc_arena_new();
            const char *path = path_of(a, out.data);
            smbcim_result *one;
            if (smbcim_get_object(ctx, path, &one, &err) != 0)
                fail_msg("%s: %s\nfrom %s", path, err.msg, out.data);
            assert_int_equal(one->count, 1);
            assert_string_equal(one->instances[0]->path, inst->path);
            smbcim_result_free(one);
            /* the same from the path string, and as an ObjectName path */
            sc_buf_reset(&out);
            cimxml_put_instancename_path(&w, inst->path);
            assert_string_equal(path_of(a, out.data), path);
            sc_buf_reset(&out);
            cimxml_put_instancepath_path(&w, inst->path);
            cimxml_request *r = parse_ok(a, mkreq(a, "ReferenceNames", iparam(a, "ObjectName",
                sc_sprintf(a, "<VALUE.REFERENCE>%s</VALUE.REFERENCE>", out.data))));
            assert_int_equal(smbcim_get_object(ctx, r->instance_name, &one, &err), 0);
            assert_string_equal(one->instances[0]->path, inst->path);
            smbcim_result_free(one);
            assert_true(cimxml_writer_ok(&w));
            sc_arena_free(a);
            cimxml_writer_free(&w);
            sc_buf_free(&out);
        }
        smbcim_result_free(res);
    }
    assert_true(n >= 10);
    smbcim_close(ctx);
}

static void test_roundtrip_names(void **state)
{
    (void)state;
    roundtrip_fixture("fs01.json", NULL);
    roundtrip_fixture("escapes.json", NULL);
    roundtrip_fixture("escapes.json", "wbem.example.com:5989");
}

static void test_write_class(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fixture("fs01.json");
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ctx, NULL);
    const cim_class *cs = smbcim_class_find(ctx, "Win32_ConnectionShare");
    const cim_class *sh = smbcim_class_find(ctx, "Win32_Share");
    assert_non_null(cs);
    assert_non_null(sh);

    cimxml_objopts all = {.include_qualifiers = true, .include_class_origin = true};
    cimxml_begin_response(&w, "4711", "GetClass", false);
    cimxml_begin_ireturn(&w);
    cimxml_put_class(&w, cs, &all);
    cimxml_end_ireturn(&w);
    cimxml_end_response(&w, false);
    check_dialect(out.data);
    char *c = xml_canon(out.data, NULL);
    assert_contains(c, "<CLASS NAME=Win32_ConnectionShare SUPERCLASS=CIM_Dependency>");
    /* Association is the class's own (DisableOverride), not only propagated */
    assert_contains(c, "<QUALIFIER NAME=Association TYPE=boolean OVERRIDABLE=false><VALUE>TRUE"
                       "</VALUE>");
    assert_lacks(c, "<QUALIFIER NAME=Association TYPE=boolean PROPAGATED=true");
    assert_contains(c, "<QUALIFIER NAME=Dynamic TYPE=boolean><VALUE>TRUE</VALUE></QUALIFIER>");
    assert_contains(c, "<PROPERTY.REFERENCE NAME=Antecedent REFERENCECLASS=Win32_Share "
                       "CLASSORIGIN=CIM_Dependency><QUALIFIER NAME=read TYPE=boolean>");
    assert_contains(c, "<QUALIFIER NAME=Key TYPE=boolean OVERRIDABLE=false><VALUE>TRUE</VALUE>"
                       "</QUALIFIER>");
    assert_lacks(c, "NAME=Abstract"); /* does not propagate */
    free(c);

    /* LocalOnly: only what Win32_Share declares or overrides */
    sc_buf_reset(&out);
    cimxml_objopts local = {.local_only = true, .include_qualifiers = true};
    cimxml_put_class(&w, sh, &local);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<PROPERTY NAME=Name TYPE=string>");
    assert_lacks(c, "NAME=Caption");
    assert_lacks(c, "PROPAGATED");
    assert_lacks(c, "CLASSORIGIN");
    free(c);
    /* not LocalOnly: inherited properties propagated; no qualifiers */
    sc_buf_reset(&out);
    cimxml_objopts inh = {0};
    cimxml_put_class(&w, sh, &inh);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<PROPERTY NAME=Caption TYPE=string PROPAGATED=true></PROPERTY>");
    assert_lacks(c, "<QUALIFIER");
    free(c);
    /* PropertyList */
    sc_buf_reset(&out);
    const char *const names[] = {"name", "TYPE", "nosuch"};
    cimxml_objopts pl = {.has_property_list = true, .property_list = names, .nproperty_list = 3};
    cimxml_put_class(&w, sh, &pl);
    c = xml_canon(out.data, NULL);
    assert_int_equal(count(c, "<PROPERTY "), 2);
    assert_contains(c, "<PROPERTY NAME=Type TYPE=uint32>");
    free(c);
    /* an instance with a property list; an empty list keeps no property */
    smbcim_result *res;
    smbcim_error err = {0};
    assert_int_equal(smbcim_get_object(ctx, "Win32_Share.Name=\"IPC$\"", &res, &err), 0);
    sc_buf_reset(&out);
    cimxml_put_instance(&w, res->instances[0], &pl);
    c = xml_canon(out.data, NULL);
    assert_string_equal(c, "<INSTANCE CLASSNAME=Win32_Share><PROPERTY NAME=Name TYPE=string>"
                           "<VALUE>IPC$</VALUE></PROPERTY><PROPERTY NAME=Type TYPE=uint32><VALUE>"
                           "2147483651</VALUE></PROPERTY></INSTANCE>");
    free(c);
    cimxml_objopts none = {.has_property_list = true};
    sc_buf_reset(&out);
    cimxml_put_named_instance(&w, res->instances[0], &none);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<INSTANCE CLASSNAME=Win32_Share></INSTANCE>");
    assert_contains(c, "<KEYVALUE VALUETYPE=string TYPE=string>IPC$</KEYVALUE>");
    free(c);
    /* class names */
    sc_buf_reset(&out);
    cimxml_put_classname(&w, "Win32_Share");
    assert_string_equal(out.data, "<CLASSNAME NAME=\"Win32_Share\"/>");
    assert_true(cimxml_writer_ok(&w));
    smbcim_result_free(res);
    cimxml_writer_free(&w);
    sc_buf_free(&out);
    smbcim_close(ctx);
}

/* GetClass with LocalOnly=true: the associations' own Association
 * qualifier (what pywbem's MOF compiler needs). */
static void test_write_class_local_association(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fixture("fs01.json");
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ctx, NULL);
    const char *names[] = {"Win32_ConnectionShare", "Win32_SessionConnection"};
    for (size_t i = 0; i < 2; i++) {
        sc_buf_reset(&out);
        cimxml_objopts local = {.local_only = true, .include_qualifiers = true};
        cimxml_put_class(&w, smbcim_class_find(ctx, names[i]), &local);
        char *c = xml_canon(out.data, NULL);
        assert_contains(c, sc_sprintf(w.scratch, "<CLASS NAME=%s SUPERCLASS=CIM_Dependency>"
                                      "<QUALIFIER NAME=Association TYPE=boolean OVERRIDABLE=false>"
                                      "<VALUE>TRUE</VALUE></QUALIFIER>", names[i]));
        assert_lacks(c, "PROPAGATED");
        free(c);
    }
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    sc_buf_free(&out);
    smbcim_close(ctx);
}

/* Qualifier types and flavors (DSP0004 via schema/00_qualifiers.mof) and
 * Win32_Share's methods in a CLASS (DSP0201 METHOD, PARAMETER,
 * DSP0200's GetClass flags). */
static void test_write_class_methods(void **state)
{
    (void)state;
    smbcim_ctx *ctx = open_fixture("fs01.json");
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ctx, NULL);
    const cim_class *sh = smbcim_class_find(ctx, "Win32_Share");
    cimxml_objopts all = {.include_qualifiers = true, .include_class_origin = true};
    cimxml_put_class(&w, sh, &all);
    char *c = xml_canon(out.data, NULL);
    /* flavors: attributes only where DSP0201's defaults do not hold */
    assert_contains(c, "<QUALIFIER NAME=MaxLen TYPE=uint32 PROPAGATED=true><VALUE>64</VALUE>");
    assert_contains(c, "<QUALIFIER NAME=Locale TYPE=sint32><VALUE>1033</VALUE>");
    assert_contains(c, "<QUALIFIER NAME=Description TYPE=string TRANSLATABLE=true><VALUE>"
                       "The Win32_Share class");
    assert_contains(c, "<QUALIFIER NAME=Values TYPE=string TRANSLATABLE=true><VALUE.ARRAY>"
                       "<VALUE>Disk Drive</VALUE>");
    assert_contains(c, "<QUALIFIER NAME=DEPRECATED TYPE=string TOSUBCLASS=false><VALUE.ARRAY>"
                       "<VALUE>Win32_Share.GetAccessMask</VALUE></VALUE.ARRAY></QUALIFIER>");
    assert_contains(c, "<QUALIFIER NAME=SupportsCreate TYPE=boolean><VALUE>TRUE</VALUE>"
                       "</QUALIFIER><QUALIFIER NAME=CreateBy TYPE=string><VALUE>Create</VALUE>"
                       "</QUALIFIER><QUALIFIER NAME=SupportsDelete TYPE=boolean><VALUE>TRUE"
                       "</VALUE></QUALIFIER><QUALIFIER NAME=DeleteBy TYPE=string><VALUE>"
                       "DeleteInstance</VALUE></QUALIFIER>");
    assert_lacks(c, "TOINSTANCE");
    assert_lacks(c, "TRANSLATABLE=false");
    assert_lacks(c, "OVERRIDABLE=true");
    /* the methods, after the properties */
    assert_int_equal(count(c, "<METHOD "), 4);
    const char *last_prop = strstr(c, "<PROPERTY NAME=AccessMask");
    assert_non_null(last_prop);
    assert_true(strstr(c, "<METHOD ") > last_prop);
    assert_contains(c, "<METHOD NAME=Create TYPE=uint32 CLASSORIGIN=Win32_Share>"
                       "<QUALIFIER NAME=Static TYPE=boolean OVERRIDABLE=false><VALUE>TRUE"
                       "</VALUE></QUALIFIER><QUALIFIER NAME=ValueMap TYPE=string><VALUE.ARRAY>"
                       "<VALUE>0</VALUE><VALUE>2</VALUE>");
    assert_contains(c, "<VALUE>Net name not found</VALUE><VALUE>Other</VALUE></VALUE.ARRAY>");
    assert_contains(c, "<PARAMETER NAME=Path TYPE=string><QUALIFIER NAME=in TYPE=boolean "
                       "OVERRIDABLE=false><VALUE>TRUE</VALUE></QUALIFIER>");
    assert_contains(c, "<PARAMETER NAME=Type TYPE=uint32>");
    assert_contains(c, "<PARAMETER NAME=Access TYPE=string><QUALIFIER NAME=in TYPE=boolean "
                       "OVERRIDABLE=false><VALUE>TRUE</VALUE></QUALIFIER><QUALIFIER "
                       "NAME=optional TYPE=boolean><VALUE>TRUE</VALUE></QUALIFIER><QUALIFIER "
                       "NAME=EmbeddedObject TYPE=boolean OVERRIDABLE=false><VALUE>TRUE</VALUE>"
                       "</QUALIFIER><QUALIFIER NAME=Description TYPE=string TRANSLATABLE=true>"
                       "<VALUE>Security descriptor of the share, a Win32_SecurityDescriptor "
                       "instance; NULL gives Everyone read access.</VALUE></QUALIFIER>"
                       "</PARAMETER></METHOD>");
    assert_contains(c, "<METHOD NAME=Delete TYPE=uint32 CLASSORIGIN=Win32_Share><QUALIFIER "
                       "NAME=ValueMap");
    assert_contains(c, "<METHOD NAME=GetAccessMask TYPE=uint32 CLASSORIGIN=Win32_Share>"
                       "<QUALIFIER NAME=Description TYPE=string TRANSLATABLE=true>");
    assert_contains(c, "</QUALIFIER></METHOD><METHOD NAME=SetShareInfo TYPE=uint32 "
                       "CLASSORIGIN=Win32_Share>");
    assert_contains(c, "</PARAMETER></METHOD></CLASS>");
    free(c);
    /* without qualifiers or class origin: bare METHODs and PARAMETERs; a
     * PropertyList filters properties only */
    sc_buf_reset(&out);
    const char *const names[] = {"Name"};
    cimxml_objopts pl = {.has_property_list = true, .property_list = names, .nproperty_list = 1};
    cimxml_put_class(&w, sh, &pl);
    c = xml_canon(out.data, NULL);
    assert_int_equal(count(c, "<PROPERTY "), 1);
    assert_lacks(c, "<QUALIFIER");
    assert_contains(c, "<METHOD NAME=Create TYPE=uint32><PARAMETER NAME=Path TYPE=string>"
                       "</PARAMETER><PARAMETER NAME=Name TYPE=string></PARAMETER>");
    assert_contains(c, "<METHOD NAME=Delete TYPE=uint32></METHOD><METHOD NAME=GetAccessMask "
                       "TYPE=uint32></METHOD><METHOD NAME=SetShareInfo TYPE=uint32><PARAMETER "
                       "NAME=MaximumAllowed TYPE=uint32></PARAMETER>");
    free(c);
    /* a class without methods has no METHOD */
    sc_buf_reset(&out);
    cimxml_put_class(&w, smbcim_class_find(ctx, "Win32_ServerSession"), &all);
    assert_lacks(out.data, "<METHOD");
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    sc_buf_free(&out);
    smbcim_close(ctx);
}

/* Inherited, overridden, void, reference and array methods and
 * parameters, from a schema of our own. */
static void test_write_class_method_kinds(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    cim_schema s;
    cim_schema_init(&s, a);
    const char *mof =
        "class B { [Description(\"m\")] uint32 M([In] string S); void V(); };\n"
        "class D : B { [Override(\"M\")] uint32 M([In, Out] string S); "
        "sint8 R(B Ref One, B Ref Many[], [Out] uint16 Arr[]); };\n";
    smbcim_error err = {0};
    if (mof_parse(&s, mof, strlen(mof), "t.mof", &err) != WBEM_S_NO_ERROR)
        fail_msg("%s", err.msg);
    const cim_class *d = cim_schema_find(&s, "D");
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, NULL, NULL);
    cimxml_objopts all = {.include_qualifiers = true, .include_class_origin = true};
    cimxml_put_class(&w, d, &all);
    char *c = xml_canon(out.data, NULL);
    assert_string_equal(c,
        "<CLASS NAME=D SUPERCLASS=B>"
        "<METHOD NAME=M TYPE=uint32 CLASSORIGIN=B>"
        "<QUALIFIER NAME=Override TYPE=string><VALUE>M</VALUE></QUALIFIER>"
        "<QUALIFIER NAME=Description TYPE=string PROPAGATED=true><VALUE>m</VALUE></QUALIFIER>"
        "<PARAMETER NAME=S TYPE=string><QUALIFIER NAME=In TYPE=boolean><VALUE>TRUE</VALUE>"
        "</QUALIFIER><QUALIFIER NAME=Out TYPE=boolean><VALUE>TRUE</VALUE></QUALIFIER>"
        "</PARAMETER></METHOD>"
        "<METHOD NAME=V CLASSORIGIN=B PROPAGATED=true></METHOD>"
        "<METHOD NAME=R TYPE=sint8 CLASSORIGIN=D>"
        "<PARAMETER.REFERENCE NAME=One REFERENCECLASS=B></PARAMETER.REFERENCE>"
        "<PARAMETER.REFARRAY NAME=Many REFERENCECLASS=B></PARAMETER.REFARRAY>"
        "<PARAMETER.ARRAY NAME=Arr TYPE=uint16><QUALIFIER NAME=Out TYPE=boolean><VALUE>TRUE"
        "</VALUE></QUALIFIER></PARAMETER.ARRAY></METHOD></CLASS>");
    free(c);
    /* LocalOnly: the inherited V goes, the overridden M stays with its own
     * qualifiers only */
    sc_buf_reset(&out);
    cimxml_objopts local = {.local_only = true, .include_qualifiers = true};
    cimxml_put_class(&w, d, &local);
    c = xml_canon(out.data, NULL);
    assert_lacks(c, "NAME=V");
    assert_lacks(c, "PROPAGATED");
    assert_contains(c, "<METHOD NAME=M TYPE=uint32><QUALIFIER NAME=Override TYPE=string>"
                       "<VALUE>M</VALUE></QUALIFIER><PARAMETER NAME=S");
    free(c);
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    sc_buf_free(&out);
    cim_schema_free(&s);
    sc_arena_free(a);
}

static void test_write_values(void **state)
{
    (void)state;
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, NULL, NULL);
    static const struct {
        cim_value v;
        const char *xml;
    } cases[] = {
        {{.type = CIM_T_BOOLEAN, .v.b = true}, "<VALUE>TRUE</VALUE>"},
        {{.type = CIM_T_BOOLEAN, .v.b = false}, "<VALUE>FALSE</VALUE>"},
        {{.type = CIM_T_UINT64, .v.u = UINT64_MAX}, "<VALUE>18446744073709551615</VALUE>"},
        {{.type = CIM_T_SINT64, .v.i = INT64_MIN}, "<VALUE>-9223372036854775808</VALUE>"},
        {{.type = CIM_T_SINT8, .v.i = -5}, "<VALUE>-5</VALUE>"},
        {{.type = CIM_T_UINT16, .v.u = 65535}, "<VALUE>65535</VALUE>"},
        {{.type = CIM_T_REAL64, .v.r = 1.5}, "<VALUE>1.5</VALUE>"},
        {{.type = CIM_T_REAL64, .v.r = 2}, "<VALUE>2.0</VALUE>"},
        {{.type = CIM_T_REAL64, .v.r = 1e300}, "<VALUE>1.0e+300</VALUE>"},
        {{.type = CIM_T_REAL32, .v.r = 0.25}, "<VALUE>0.25</VALUE>"},
        {{.type = CIM_T_REAL64, .v.r = -1.0 / 0.0}, "<VALUE>-INF</VALUE>"},
        {{.type = CIM_T_STRING, .v.s = "a<b>&\"c\"'"}, "<VALUE>a&lt;b&gt;&amp;&quot;c&quot;'</VALUE>"},
        {{.type = CIM_T_STRING, .v.s = "tab\tnl\ncr\rbell\a"},
         "<VALUE>tab\tnl\ncr&#13;bell\xEF\xBF\xBD</VALUE>"},
        {{.type = CIM_T_STRING, .v.s = "bad\xC3(\xED\xA0\x80\xF4\x90\x80\x80\xC0\xAF\xEF\xBF\xBE!"},
         "<VALUE>bad\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
         "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD!</VALUE>"},
        {{.type = CIM_T_STRING, .v.s = "Données €𝄞"}, "<VALUE>Données €𝄞</VALUE>"},
        {{.type = CIM_T_CHAR16, .v.s = "é"}, "<VALUE>é</VALUE>"},
        {{.type = CIM_T_DATETIME, .v.s = "20261124120000.000000+000"},
         "<VALUE>20261124120000.000000+000</VALUE>"},
        {{.type = CIM_T_STRING, .null = true}, ""},
        {{.type = CIM_T_REFERENCE, .v.s = "\\\\FS01\\root\\cimv2:Win32_Share.Name=\"x\""},
         "<VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>localhost</HOST><LOCALNAMESPACEPATH>"
         "<NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH></NAMESPACEPATH>"
         "<INSTANCENAME CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE "
         "VALUETYPE=\"string\" TYPE=\"string\">x</KEYVALUE></KEYBINDING></INSTANCENAME>"
         "</INSTANCEPATH></VALUE.REFERENCE>"},
        {{.type = CIM_T_REFERENCE, .v.s = "Num.Id=5,Flag=true"},
         "<VALUE.REFERENCE><INSTANCEPATH><NAMESPACEPATH><HOST>localhost</HOST><LOCALNAMESPACEPATH>"
         "<NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH></NAMESPACEPATH>"
         "<INSTANCENAME CLASSNAME=\"Num\"><KEYBINDING NAME=\"Id\"><KEYVALUE VALUETYPE=\"numeric\" "
         "TYPE=\"uint64\">5</KEYVALUE></KEYBINDING><KEYBINDING NAME=\"Flag\"><KEYVALUE "
         "VALUETYPE=\"boolean\" TYPE=\"boolean\">TRUE</KEYVALUE></KEYBINDING></INSTANCENAME>"
         "</INSTANCEPATH></VALUE.REFERENCE>"},
        {{.type = CIM_T_REFERENCE, .v.s = "root/cimv2:Win32_Share"},
         "<VALUE.REFERENCE><CLASSPATH><NAMESPACEPATH><HOST>localhost</HOST><LOCALNAMESPACEPATH>"
         "<NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/></LOCALNAMESPACEPATH></NAMESPACEPATH>"
         "<CLASSNAME NAME=\"Win32_Share\"/></CLASSPATH></VALUE.REFERENCE>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sc_buf_reset(&out);
        cimxml_put_value(&w, &cases[i].v);
        if (strcmp(out.data ? out.data : "", cases[i].xml) != 0)
            fail_msg("case %zu:\n got %s\nwant %s", i, out.data, cases[i].xml);
    }
    /* arrays */
    cim_value elems[3] = {{.type = CIM_T_UINT32, .v.u = 1}, {.type = CIM_T_UINT32, .null = true},
                          {.type = CIM_T_UINT32, .v.u = 3}};
    cim_value arr = {.type = CIM_T_UINT32, .array = true, .count = 3, .v.elems = elems};
    sc_buf_reset(&out);
    cimxml_put_value(&w, &arr);
    assert_string_equal(out.data, "<VALUE.ARRAY><VALUE>1</VALUE><VALUE.NULL/><VALUE>3</VALUE></VALUE.ARRAY>");
    cim_value refs[1] = {{.type = CIM_T_REFERENCE, .v.s = "A.k=\"v\""}};
    cim_value rarr = {.type = CIM_T_REFERENCE, .array = true, .count = 1, .v.elems = refs};
    sc_buf_reset(&out);
    cimxml_put_value(&w, &rarr);
    assert_true(strncmp(out.data, "<VALUE.REFARRAY><VALUE.REFERENCE><INSTANCEPATH>", 47) == 0);
    assert_true(cimxml_writer_ok(&w));
    /* a reference that is no path spoils the writer */
    cim_value badref = {.type = CIM_T_REFERENCE, .v.s = "not a path"};
    cimxml_put_value(&w, &badref);
    assert_false(cimxml_writer_ok(&w));
    assert_contains(w.err.msg, "not a path");
    cimxml_writer_free(&w);

    /* escaping in attributes keeps white space */
    sc_buf_reset(&out);
    cimxml_escape(&out, "a\tb\nc\rd\"e<&>", true);
    assert_string_equal(out.data, "a&#9;b&#10;c&#13;d&quot;e&lt;&amp;&gt;");
    sc_buf_free(&out);
}

static void test_write_errors(void **state)
{
    (void)state;
    sc_buf out;
    sc_buf_init(&out);
    const char *desc = "No \"such\" <instance> & co\tnext\nline \x01 Données";
    cimxml_write_error(&out, "4711", "GetInstance", false, CIM_ERR_NOT_FOUND, desc);
    check_dialect(out.data);
    char *c = xml_canon(out.data, NULL);
    assert_contains(c, "<IMETHODRESPONSE NAME=GetInstance><ERROR CODE=6 DESCRIPTION=No \"such\" "
                       "<instance> & co\tnext\nline \xEF\xBF\xBD Données></ERROR></IMETHODRESPONSE>");
    free(c);
    sc_buf_reset(&out);
    cimxml_write_error(&out, "1", "SetShareInfo", true, CIM_ERR_NOT_SUPPORTED, NULL);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<METHODRESPONSE NAME=SetShareInfo><ERROR CODE=7></ERROR></METHODRESPONSE>");
    free(c);
    sc_buf_reset(&out);
    cimxml_write_void(&out, "1001", "CloseEnumeration");
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<SIMPLERSP><IMETHODRESPONSE NAME=CloseEnumeration></IMETHODRESPONSE></SIMPLERSP>");
    free(c);
    /* the error of a parsed request, answered with its id and method */
    sc_arena *a = sc_arena_new();
    cimxml_request *r;
    const char *body = mkreq(a, "GetInstance", "<IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME "
                                               "CLASSNAME=\"A\"><KEYBINDING NAME=\"k\"><KEYVALUE "
                                               "VALUETYPE=\"boolean\">&lt;&amp;</KEYVALUE></KEYBINDING>"
                                               "</INSTANCENAME></IPARAMVALUE>");
    cimxml_error e = parse_bad(a, body, strlen(body), CIMXML_E_CIM, CIM_ERR_INVALID_PARAMETER, &r);
    sc_buf_reset(&out);
    cimxml_write_error(&out, r->id, r->method, r->extrinsic, e.cim_code, e.msg);
    c = xml_canon(out.data, NULL);
    assert_contains(c, "<MESSAGE ID=77 PROTOCOLVERSION=1.0><SIMPLERSP><IMETHODRESPONSE NAME=GetInstance>"
                       "<ERROR CODE=4 DESCRIPTION=line 2, column ");
    assert_contains(c, "\"<&\" is neither TRUE nor FALSE");
    free(c);
    sc_arena_free(a);
    sc_buf_free(&out);
}

/* ---- embedded instances and export messages ------------------------------------ */

/* The text of the VALUE of the first PROPERTY named `prop` in doc (an
 * embedded object: the XML of its INSTANCE once decoded); NULL if none.
 * free() it. */
typedef struct embed_find {
    const char *prop;
    int depth, prop_depth;
    bool in_value, found;
    sc_buf text;
} embed_find;

static void XMLCALL ef_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    embed_find *f = ud;
    f->depth++;
    if (f->found)
        return;
    if (!f->prop_depth && strcmp(name, "PROPERTY") == 0) {
        for (size_t i = 0; atts[i]; i += 2)
            if (strcmp(atts[i], "NAME") == 0 && strcmp(atts[i + 1], f->prop) == 0)
                f->prop_depth = f->depth;
    } else if (f->prop_depth && f->depth == f->prop_depth + 1 && strcmp(name, "VALUE") == 0) {
        f->in_value = true;
    }
}

static void XMLCALL ef_end(void *ud, const XML_Char *name)
{
    embed_find *f = ud;
    (void)name;
    if (f->in_value && f->depth == f->prop_depth + 1) {
        f->in_value = false;
        f->found = true;
    }
    if (f->depth == f->prop_depth)
        f->prop_depth = 0;
    f->depth--;
}

static void XMLCALL ef_text(void *ud, const XML_Char *s, int len)
{
    embed_find *f = ud;
    if (f->in_value)
        sc_buf_add(&f->text, s, (size_t)len);
}

static char *embedded_text(const char *doc, const char *prop)
{
    embed_find f = {.prop = prop};
    sc_buf_init(&f.text);
    XML_Parser p = XML_ParserCreate(NULL);
    XML_SetUserData(p, &f);
    XML_SetElementHandler(p, ef_start, ef_end);
    XML_SetCharacterDataHandler(p, ef_text);
    if (XML_Parse(p, doc, (int)strlen(doc), XML_TRUE) != XML_STATUS_OK)
        fail_msg("not well-formed: %s\n%.3000s", XML_ErrorString(XML_GetErrorCode(p)), doc);
    XML_ParserFree(p);
    if (!f.found) {
        sc_buf_free(&f.text);
        return NULL;
    }
    sc_buf_putc(&f.text, '\0'); /* an empty VALUE is "" */
    return sc_buf_take(&f.text);
}

static cim_value embed(const cim_instance *inst)
{
    cim_value v = {.type = CIM_T_INSTANCE, .null = inst == NULL};
    v.v.o = inst;
    return v;
}

/* What a writer writes for one call of put on inst (free()). */
static char *written(smbcim_ctx *ctx, const cim_instance *inst, bool *ok)
{
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ctx, "h1");
    cimxml_put_instance(&w, inst, NULL);
    if (ok)
        *ok = cimxml_writer_ok(&w);
    else if (!cimxml_writer_ok(&w))
        fail_msg("writer failed: %s", w.err.msg);
    cimxml_writer_free(&w);
    sc_buf_putc(&out, '\0');
    return sc_buf_take(&out);
}

/* The events smbcimd exports and the root/cimv2 instance they carry. */
typedef struct events {
    smbcim_ctx *interop, *fs01;
    smbcim_result *res;
    const cim_instance *share; /* Win32_Share IPC$ */
    const cim_class *creation, *modification;
    sc_arena *a;
} events;

static void events_open(events *e)
{
    smbcim_error err = {0};
    e->interop = smbcim_open_interop(NULL, &err);
    if (!e->interop)
        fail_msg("root/interop: %s", err.msg);
    e->fs01 = open_fixture("fs01.json");
    assert_int_equal(smbcim_exec_query(e->fs01, "SELECT * FROM Win32_Share WHERE Name = 'IPC$'",
                                       &e->res, &err), WBEM_S_NO_ERROR);
    assert_int_equal(e->res->count, 1);
    e->share = e->res->instances[0];
    e->creation = smbcim_class_find(e->interop, "CIM_InstCreation");
    e->modification = smbcim_class_find(e->interop, "CIM_InstModification");
    assert_non_null(e->creation);
    assert_non_null(e->modification);
    e->a = sc_arena_new();
}

static void events_close(events *e)
{
    sc_arena_free(e->a);
    smbcim_result_free(e->res);
    smbcim_close(e->fs01);
    smbcim_close(e->interop);
}

/* An instance holding another (embedded) is written with the other's XML
 * as its text; read back, that text is the other instance as the writer
 * writes it alone. */
static void test_write_embedded(void **state)
{
    (void)state;
    events ev;
    events_open(&ev);
    cim_instance *ind = cim_instance_new(ev.a, ev.creation);
    cim_instance_put(ind, "SourceInstance", embed(ev.share));
    cim_instance_set(ind, "IndicationFilterName", cim_str(CIM_T_STRING, "f<1> & \"2\""));
    char *alone = written(ev.interop, ev.share, NULL);

    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ev.interop, "h1");
    cimxml_begin_response(&w, "9", "GetInstance", false);
    cimxml_begin_ireturn(&w);
    cimxml_put_instance(&w, ind, NULL);
    cimxml_end_ireturn(&w);
    cimxml_end_response(&w, false);
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    check_dialect(out.data);
    char *c = xml_canon(out.data, NULL);
    assert_contains(c, "<PROPERTY NAME=SourceInstance TYPE=string EmbeddedObject=instance><VALUE>"
                       "<INSTANCE CLASSNAME=\"Win32_Share\"><PROPERTY NAME=\"");
    assert_contains(c, "<PROPERTY NAME=IndicationFilterName TYPE=string><VALUE>f<1> & \"2\""
                       "</VALUE></PROPERTY>");
    free(c);
    /* the embedded text: the share's INSTANCE, byte for byte */
    char *inner = embedded_text(out.data, "SourceInstance");
    assert_non_null(inner);
    assert_string_equal(inner, alone);
    c = xml_canon(inner, NULL);
    assert_true(strncmp(c, "<INSTANCE CLASSNAME=Win32_Share>", 32) == 0);
    assert_contains(c, "<PROPERTY NAME=Name TYPE=string><VALUE>IPC$</VALUE></PROPERTY>");
    free(c);
    free(inner);

    /* two levels: a modification carrying the creation carrying the share,
     * unwrapped twice */
    cim_instance *mod = cim_instance_new(ev.a, ev.modification);
    cim_instance_put(mod, "SourceInstance", embed(ind));
    char *doc = written(ev.interop, mod, NULL);
    char *level1 = embedded_text(doc, "SourceInstance");
    char *ind_alone = written(ev.interop, ind, NULL);
    assert_string_equal(level1, ind_alone);
    char *level2 = embedded_text(level1, "SourceInstance");
    assert_string_equal(level2, alone);
    /* a NULL embedded object: the declaration's EmbeddedObject="object" */
    c = xml_canon(doc, NULL);
    assert_contains(c, "<PROPERTY NAME=PreviousInstance TYPE=string EmbeddedObject=object>"
                       "</PROPERTY>");
    free(c);
    free(doc);
    free(level1);
    free(level2);
    free(ind_alone);

    /* nesting: the share under 1..4 embedding levels is written, under 5
     * the writer fails; so does an instance that holds itself */
    for (int n = 0; n <= 4; n++) {
        const cim_instance *inner_most = ev.share;
        for (int k = 0; k < n; k++) {
            cim_instance *x = cim_instance_new(ev.a, ev.creation);
            cim_instance_put(x, "SourceInstance", embed(inner_most));
            inner_most = x;
        }
        cim_instance *top = cim_instance_new(ev.a, ev.creation);
        cim_instance_put(top, "SourceInstance", embed(inner_most));
        bool ok;
        doc = written(ev.interop, top, &ok);
        if (ok != (n < 4))
            fail_msg("%d levels: writer %s", n + 1, ok ? "ok" : "failed");
        for (int k = 0; ok && k <= n; k++) {
            char *t = embedded_text(doc, "SourceInstance");
            free(doc);
            doc = t;
        }
        if (ok)
            assert_string_equal(doc, alone);
        free(doc);
    }
    cim_instance *self = cim_instance_new(ev.a, ev.creation);
    cim_instance_put(self, "SourceInstance", embed(self));
    sc_buf_reset(&out);
    cimxml_writer_init(&w, &out, ev.interop, "h1");
    cimxml_put_instance(&w, self, NULL);
    assert_false(cimxml_writer_ok(&w));
    assert_contains(w.err.msg, "embedded instances nested deeper than 4 levels");
    cimxml_writer_free(&w);

    /* a bare value: one VALUE; in an array, one VALUE per instance */
    cim_value v = embed(ev.share);
    cim_value elems[2] = {embed(ev.share), {.type = CIM_T_INSTANCE, .null = true}};
    cim_value arr = {.type = CIM_T_INSTANCE, .array = true, .count = 2, .v.elems = elems};
    sc_buf want;
    sc_buf_init(&want);
    sc_buf_puts(&want, "<VALUE>");
    cimxml_escape(&want, alone, false);
    sc_buf_puts(&want, "</VALUE>");
    sc_buf_reset(&out);
    cimxml_writer_init(&w, &out, ev.interop, "h1");
    cimxml_put_value(&w, &v);
    assert_string_equal(out.data, want.data);
    sc_buf_reset(&out);
    cimxml_put_value(&w, &arr);
    assert_string_equal(out.data, sc_sprintf(ev.a, "<VALUE.ARRAY>%s<VALUE.NULL/></VALUE.ARRAY>",
                                             want.data));
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    sc_buf_free(&want);
    sc_buf_free(&out);
    free(alone);
    events_close(&ev);
}

/* ExportIndication: the exact skeleton around the INSTANCE the writer
 * writes for the indication. */
static void test_write_export(void **state)
{
    (void)state;
    events ev;
    events_open(&ev);
    cim_instance *ind = cim_instance_new(ev.a, ev.creation);
    cim_instance_put(ind, "SourceInstance", embed(ev.share));
    cim_instance_set(ind, "IndicationIdentifier", cim_str(CIM_T_STRING, "smbcimd:1"));
    cim_instance_set(ind, "SequenceNumber", cim_i(CIM_T_SINT64, 0));
    sc_buf out;
    sc_buf_init(&out);
    cimxml_writer w;
    cimxml_writer_init(&w, &out, ev.interop, "h1");
    cimxml_write_export_indication(&w, "42\"<&", ind);
    assert_true(cimxml_writer_ok(&w));
    cimxml_writer_free(&w);
    char *inst = written(ev.interop, ind, NULL);
    const char *want = sc_sprintf(
        ev.a, "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" "
              "DTDVERSION=\"2.0\"><MESSAGE ID=\"42&quot;&lt;&amp;\" PROTOCOLVERSION=\"1.0\">"
              "<SIMPLEEXPREQ><EXPMETHODCALL NAME=\"ExportIndication\"><EXPPARAMVALUE "
              "NAME=\"NewIndication\">%s</EXPPARAMVALUE></EXPMETHODCALL></SIMPLEEXPREQ></MESSAGE>"
              "</CIM>\n", inst);
    assert_string_equal(out.data, want);
    free(inst);
    /* well-formed, every property (a NULL one empty), no qualifiers, no
     * class origin */
    check_dialect(out.data);
    char *c = xml_canon(out.data, NULL);
    assert_true(strncmp(c, "<CIM CIMVERSION=2.0 DTDVERSION=2.0><MESSAGE ID=42\"<& PROTOCOLVERSION"
                           "=1.0><SIMPLEEXPREQ><EXPMETHODCALL NAME=ExportIndication>"
                           "<EXPPARAMVALUE NAME=NewIndication><INSTANCE CLASSNAME=CIM_InstCreation>",
                        167) == 0);
    assert_contains(c, "<PROPERTY NAME=IndicationIdentifier TYPE=string><VALUE>smbcimd:1</VALUE>");
    assert_contains(c, "<PROPERTY NAME=SequenceNumber TYPE=sint64><VALUE>0</VALUE>");
    assert_contains(c, "<PROPERTY NAME=SequenceContext TYPE=string></PROPERTY>");
    free(c);
    assert_int_equal(count(out.data, "<PROPERTY"), ev.creation->nprops);
    assert_lacks(out.data, "<QUALIFIER");
    assert_lacks(out.data, "CLASSORIGIN");
    sc_buf_free(&out);
    events_close(&ev);
}

/* A listener's answers to ExportIndication. */
static void test_export_response(void **state)
{
    (void)state;
#define T_RSP(inner) "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" " \
                     "DTDVERSION=\"2.0\"><MESSAGE ID=\"42\" PROTOCOLVERSION=\"1.0\"><SIMPLEEXPRSP>" \
                     inner "</SIMPLEEXPRSP></MESSAGE></CIM>\n"
#define T_EMR(inner) T_RSP("<EXPMETHODRESPONSE NAME=\"ExportIndication\">" inner \
                           "</EXPMETHODRESPONSE>")
    static const struct {
        const char *body;
        bool ok;
        int code;
        const char *msg; /* in the message */
        const char *at;  /* a failure: what its line and column point at */
    } cases[] = {
        /* taken */
        {T_EMR(""), true, 0, "", NULL},
        {T_EMR("<IRETURNVALUE/>"), true, 0, "", NULL},
        {T_EMR("\n  <IRETURNVALUE>\n  </IRETURNVALUE>\n"), true, 0, "", NULL},
        {T_RSP("<EXPMETHODRESPONSE NAME=\"exportindication\"/>"), true, 0, "", NULL},
        {"<CIM><MESSAGE><SIMPLEEXPRSP><EXPMETHODRESPONSE NAME=\"ExportIndication\"/>"
         "</SIMPLEEXPRSP></MESSAGE></CIM>", true, 0, "", NULL},
        /* refused by the listener */
        {T_EMR("<ERROR CODE=\"4\" DESCRIPTION=\"no &quot;thanks&quot; &amp; bye\"/>"), true, 4,
         "no \"thanks\" & bye", NULL},
        {T_EMR("<ERROR CODE=\"1\"><INSTANCE CLASSNAME=\"CIM_Error\"><PROPERTY NAME=\"Message\" "
               "TYPE=\"string\"><VALUE>m</VALUE></PROPERTY></INSTANCE></ERROR>"), true, 1, "", NULL},
        {T_EMR("<ERROR CODE=\"2147483647\"/>"), true, 2147483647, "", NULL},
        /* not such an answer */
        {T_EMR("<ERROR CODE=\"0\"/>"), false, 0,
         "<ERROR> needs a CODE that is a CIM status code (a positive integer), not \"0\"",
         "<ERROR"},
        {T_EMR("<ERROR CODE=\" 7\"/>"), false, 0, "not \" 7\"", "<ERROR"},
        {T_EMR("<ERROR CODE=\"-4\"/>"), false, 0, "not \"-4\"", "<ERROR"},
        {T_EMR("<ERROR CODE=\"2147483648\"/>"), false, 0, "CIM status code", "<ERROR"},
        {T_EMR("<ERROR CODE=\"4x\"/>"), false, 0, "CIM status code", "<ERROR"},
        {T_EMR("<ERROR DESCRIPTION=\"x\"/>"), false, 0, "not \"(none)\"", "<ERROR"},
        {T_EMR("<ERROR CODE=\"4\"/><IRETURNVALUE/>"), false, 0,
         "unexpected <IRETURNVALUE> in <EXPMETHODRESPONSE>", "<IRETURNVALUE"},
        {T_EMR("<IRETURNVALUE><VALUE>x</VALUE></IRETURNVALUE>"), false, 0,
         "the <IRETURNVALUE> of ExportIndication must be empty", "<IRETURNVALUE"},
        {T_EMR("<IRETURNVALUE>x</IRETURNVALUE>"), false, 0, "must be empty", "<IRETURNVALUE"},
        {T_EMR("<RETURNVALUE/>"), false, 0,
         "expected <ERROR> or <IRETURNVALUE> in <EXPMETHODRESPONSE>, found <RETURNVALUE>",
         "<RETURNVALUE"},
        {T_RSP("<EXPMETHODRESPONSE NAME=\"Other\"/>"), false, 0,
         "expected <EXPMETHODRESPONSE NAME=\"ExportIndication\">, found NAME \"Other\"",
         "<EXPMETHODRESPONSE"},
        {T_RSP("<EXPMETHODRESPONSE/>"), false, 0, "found NAME \"(none)\"", "<EXPMETHODRESPONSE"},
        {T_RSP(""), false, 0, "<SIMPLEEXPRSP> holds no <EXPMETHODRESPONSE>", "<SIMPLEEXPRSP"},
        {T_RSP("<EXPMETHODRESPONSE NAME=\"ExportIndication\"/><EXPMETHODRESPONSE "
               "NAME=\"ExportIndication\"/>"), false, 0,
         "unexpected <EXPMETHODRESPONSE> after <EXPMETHODRESPONSE> in <SIMPLEEXPRSP>",
         "<EXPMETHODRESPONSE NAME=\"ExportIndication\"/></"},
        {"<CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\"><MESSAGE ID=\"1\" PROTOCOLVERSION=\"1.0\">"
         "<SIMPLERSP><IMETHODRESPONSE NAME=\"GetClass\"/></SIMPLERSP></MESSAGE></CIM>", false, 0,
         "expected <SIMPLEEXPRSP> in <MESSAGE>, found <SIMPLERSP>", "<SIMPLERSP>"},
        {"<CIM><MESSAGE/></CIM>", false, 0, "<MESSAGE> holds no <SIMPLEEXPRSP>", "<MESSAGE"},
        {"<CIM/>", false, 0, "<CIM> holds no <MESSAGE>", "<CIM"},
        {"<MESSAGE/>", false, 0, "the root element must be <CIM>, not <MESSAGE>", "<MESSAGE"},
        /* not XML, or XML refused */
        {"garbage", false, 0, "XML not well-formed: syntax error", "garbage"},
        {"", false, 0, "XML not well-formed: no element found", NULL},
        /* expat points at the name of a mismatched end tag */
        {"<CIM><MESSAGE></CIM>", false, 0, "XML not well-formed: mismatched tag", "CIM>"},
        {"<!DOCTYPE CIM [<!ENTITY a \"b\">]><CIM>&a;</CIM>", false, 0,
         "DOCTYPE declarations are not accepted", NULL},
        {"<?xml version=\"1.0\"?><!DOCTYPE CIM SYSTEM \"file:///etc/passwd\"><CIM/>", false, 0,
         "DOCTYPE declarations are not accepted", NULL},
    };
#undef T_EMR
#undef T_RSP
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *body = cases[i].body;
        int code = -1;
        char msg[300];
        bool ok = cimxml_parse_export_response(body, strlen(body), &code, msg, sizeof msg);
        if (ok != cases[i].ok || code != cases[i].code || !strstr(msg, cases[i].msg) ||
            (ok && !cases[i].msg[0] && msg[0]))
            fail_msg("case %zu: ok %d, code %d, \"%s\"", i, ok, code, msg);
        if (ok)
            continue;
        unsigned line = 0, col = 0;
        if (sscanf(msg, "line %u, column %u: ", &line, &col) != 2)
            fail_msg("case %zu: no position in \"%s\"", i, msg);
        if (cases[i].at) {
            const char *at = at_pos(body, line, col);
            if (strncmp(at, cases[i].at, strlen(cases[i].at)) != 0)
                fail_msg("case %zu: %s\npoints at %.60s, not %s", i, msg, at, cases[i].at);
        }
    }
    /* every truncation of a good answer is refused, saying where */
    const char *good = "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\n<CIM CIMVERSION=\"2.0\" "
                       "DTDVERSION=\"2.0\"><MESSAGE ID=\"42\" PROTOCOLVERSION=\"1.0\">"
                       "<SIMPLEEXPRSP><EXPMETHODRESPONSE NAME=\"ExportIndication\"><ERROR "
                       "CODE=\"4\"/></EXPMETHODRESPONSE></SIMPLEEXPRSP></MESSAGE></CIM>";
    for (size_t cut = 0; cut < strlen(good) - 1; cut++) {
        int code = -1;
        char msg[300];
        if (cimxml_parse_export_response(good, cut, &code, msg, sizeof msg) || code != 0 ||
            strncmp(msg, "line ", 5) != 0)
            fail_msg("cut at %zu: code %d, \"%s\"", cut, code, msg);
    }
    /* nesting deeper than the request parser takes */
    sc_buf b;
    sc_buf_init(&b);
    for (int i = 0; i < 40; i++)
        sc_buf_puts(&b, "<CIM>");
    for (int i = 0; i < 40; i++)
        sc_buf_puts(&b, "</CIM>");
    int code;
    char msg[300];
    assert_false(cimxml_parse_export_response(b.data, b.len, &code, msg, sizeof msg));
    assert_contains(msg, "nested deeper than 32");
    sc_buf_free(&b);
    /* a short message buffer is cut and ended; none at all is fine */
    char small[12];
    assert_false(cimxml_parse_export_response("<X/>", 4, &code, small, sizeof small));
    assert_string_equal(small, "line 1, col");
    assert_true(cimxml_parse_export_response(cases[5].body, strlen(cases[5].body), &code, NULL,
                                             0)); /* the ERROR CODE="4" */
    assert_int_equal(code, 4);
    assert_false(cimxml_parse_export_response(NULL, 0, &code, NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captures_all),
        cmocka_unit_test(test_capture_classes),
        cmocka_unit_test(test_capture_instances),
        cmocka_unit_test(test_capture_associations),
        cmocka_unit_test(test_capture_pull_and_query),
        cmocka_unit_test(test_capture_unsupported),
        cmocka_unit_test(test_create_instance),
        cmocka_unit_test(test_create_instance_refused),
        cmocka_unit_test(test_delete_instance),
        cmocka_unit_test(test_capture_files),
        cmocka_unit_test(test_path_forms),
        cmocka_unit_test(test_refuse_doctype),
        cmocka_unit_test(test_refuse_malformed),
        cmocka_unit_test(test_refuse_structure),
        cmocka_unit_test(test_refuse_limits),
        cmocka_unit_test(test_refuse_parameters),
        cmocka_unit_test(test_write_enumerate_instances),
        cmocka_unit_test(test_roundtrip_names),
        cmocka_unit_test(test_write_class),
        cmocka_unit_test(test_write_class_local_association),
        cmocka_unit_test(test_write_class_methods),
        cmocka_unit_test(test_write_class_method_kinds),
        cmocka_unit_test(test_write_values),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_write_embedded),
        cmocka_unit_test(test_write_export),
        cmocka_unit_test(test_export_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
