/* sandbox: a Lua 5.4 state that rule files cannot escape. Only base, table, string, math,
 * utf8 and a hooked coroutine library; text chunks only; an allocator with a byte cap and a
 * count hook with an instruction budget, whose errors a rule's own pcall cannot swallow.
 * It must never open io, os, debug or package, nor let a binary chunk or a __gc in. */
#ifndef TANDEM_SANDBOX_H
#define TANDEM_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <lua.h>

enum sandbox_trip { TRIP_NONE, TRIP_INSTRUCTIONS, TRIP_MEMORY, TRIP_TIME };

/* The budget counts VM instructions and, at fixed rates, the work a rule makes C do for it
 * (bytes allocated, pattern matching, counted loops), so a cheap-looking call in a loop cannot
 * run for minutes. A wall-clock limit well above what the budget needs backs it up for work
 * no count sees. The cap and the budget bind only inside sandbox_call: the host's own pushes
 * between calls are never refused (an unprotected refusal would abort the process). */
struct smallpool;

struct sandbox {
    lua_State *L;
    size_t mem_used, mem_cap;
    long long budget;          /* instructions allowed in the current call */
    long long used;            /* instructions counted in the current call */
    enum sandbox_trip tripped; /* set when a limit was hit; sticky until sandbox_reset */
    /* Private to sandbox.c. */
    int in_call;               /* depth of sandbox_call */
    double deadline;           /* CLOCK_MONOTONIC seconds when the current call must end */
    struct { const void *ptr; size_t osize, nsize; } refused;   /* last allocation refused */
    struct smallpool *pool;    /* the state's small blocks */
};

#define SANDBOX_DEFAULT_MEMORY (64u << 20)        /* 64 MiB per rules state */
#define SANDBOX_DEFAULT_BUDGET 10000000LL         /* 10M VM instructions per handler call */

/* Creates the state (sb must outlive it). Returns 0 or -ENOMEM. */
int sandbox_open(struct sandbox *sb, size_t mem_cap);
void sandbox_close(struct sandbox *sb);

/* Starts a budgeted call: resets the count and the trip, sets the budget and the wall-clock
 * backstop (1 us per unit of budget, at least 1 s). */
void sandbox_reset(struct sandbox *sb, long long budget);

/* Charges work done in C on behalf of a rule (converting its tables, solving) against the
 * current call's budget, as that many instructions. Call only from a C function a rule called:
 * when the budget runs out it raises the limit error and does not return. No-op outside
 * sandbox_call. */
void sandbox_charge(lua_State *L, double units);


/* Calls the function below nargs arguments on top of the stack like lua_pcall, with a
 * traceback message handler. On error leaves one string on the stack and fills where
 * (FILE:LINE of the innermost Lua frame, or "" when unknown). A limit hit is reported
 * as the limit, whatever the rule's own pcall did with it. Returns LUA_OK or an error code. */
int sandbox_call(struct sandbox *sb, int nargs, int nresults, char *where, size_t where_len);

/* Loads a text-only chunk from a file of at most 16 MiB; chunkname "@path". A UTF-8 BOM and a
 * first line starting with '#' are skipped, as lua does. On error pushes a message of the form
 * "FILE:LINE: reason" (or "FILE: reason"; LUA_ERRFILE when the file cannot be read). */
int sandbox_loadfile(struct sandbox *sb, const char *path);

/* Registers a table as protected: rawset on it is refused, and the rules see it read-only
 * through a proxy. Pops the table, pushes the proxy. */
void sandbox_protect(struct sandbox *sb);

#endif
