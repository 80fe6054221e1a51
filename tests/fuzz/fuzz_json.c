/* fuzz_json.c - the streaming JSON reader: tokenize, and skip every
 * container, on arbitrary bytes; nothing may crash, hang or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    jp_reader r;
    jp_init(&r, (const char *)data, size);
    int64_t v;
    jp_tok t;
    while ((t = jp_next(&r)) > JP_EOF)
        if (t == JP_NUMBER)
            (void)jp_int(&r, &v);
    jp_free(&r);
    jp_init(&r, (const char *)data, size);
    while ((t = jp_next(&r)) > JP_EOF)
        if ((t == JP_OBJ_BEGIN || t == JP_ARR_BEGIN) && r.depth > 1)
            if (!jp_skip(&r))
                break;
    unsigned line, col;
    jp_line_col(&r, r.err_off, &line, &col);
    jp_free(&r);
    return 0;
}
