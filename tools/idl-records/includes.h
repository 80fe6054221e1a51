/*
 * includes.h - stands in for Samba's includes.h (source3/include or
 * source4/include) when tools/idl-records.sh compiles a release's NDR
 * runtime and generated code: just what those files use.
 */
#include "replace.h"
#include "system/network.h"
#include "system/time.h"
#include <talloc.h>
#include "lib/util/samba_util.h"
#include "lib/util/debug.h"
#include "libcli/util/error.h"
#include "lib/util/charset/charset.h"
