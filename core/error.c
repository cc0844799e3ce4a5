/* error: formatting of person-facing errors. Never allocates. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int error_set(struct error *e, int code, const char *file, int line, const char *fmt, ...)
{
    if (e == NULL)
        return code;
    e->code = code;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *error_text(const struct error *e, char *buf, size_t len)
{
    if (e->file[0] && e->line > 0)
        snprintf(buf, len, "%s:%d: %s", e->file, e->line, e->msg);
    else if (e->file[0])
        snprintf(buf, len, "%s: %s", e->file, e->msg);
    else
        snprintf(buf, len, "%s", e->msg);
    return buf;
}
