/* error: the one type that carries a message for a person, with FILE:LINE when
 * the problem comes from input (a CSV row, a rule file, a journal line).
 * Functions that can fail return 0 or a negative code and fill a struct error. */
#ifndef TANDEM_ERROR_H
#define TANDEM_ERROR_H

#include <stddef.h>

enum {
    ERR_INPUT  = -1,   /* bad input: CSV, rules, protocol, a damaged log */
    ERR_SYSTEM = -3,   /* the system failed: I/O, memory */
};

struct error {
    int  code;         /* ERR_INPUT or ERR_SYSTEM; 0 when no error was set */
    char file[256];    /* where, or "" when the error has no input location */
    int  line;         /* 1-based line in file, 0 when unknown */
    char msg[768];
};

/* Sets e (when not NULL) and returns code. file may be NULL. */
int error_set(struct error *e, int code, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Writes "FILE:LINE: msg" (or "FILE: msg", or "msg") into buf; returns buf. */
const char *error_text(const struct error *e, char *buf, size_t len);

#endif
