/* daemon: `tandem run` — the engine on a real clock inside a libuv loop: a timer armed
 * for the next due item, the control socket, group commit, SIGHUP reload, and a clean
 * stop on SIGTERM/SIGINT. It owns no program logic: everything goes through the engine. */
#ifndef TANDEM_DAEMON_H
#define TANDEM_DAEMON_H

#include <stdbool.h>

#include "engine.h"
#include "error.h"

struct daemon_options {
    const char *rules;        /* the rule file */
    const char *people;       /* an HRIS export to import at start, or NULL */
    const char *state_dir;
    enum journal_sync sync;
    int socket_mode;          /* 0600 unless widened */
    bool lenient;
    long long snapshot_every; /* write a snapshot after this many events (0: only on `ctl snapshot`) */
    const char *const *plugins;          /* --plugin: names or paths, loaded before the rules' own */
    cJSON *const *plugin_configs;        /* each one's --plugin-config, or NULL */
    int n_plugins;
};

/* Runs until SIGTERM or SIGINT. Returns the process exit code (0 on a clean stop, 1 for
 * bad rules or people at start, 3 when the engine or the system failed) and fills err. */
int daemon_run(const struct daemon_options *o, struct error *err);

#endif
