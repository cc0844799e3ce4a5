/* main: the command line. Parses a verb and its options, then calls into the engine or the
 * report. Exit codes: 0 ok, 1 bad input or rules, 2 usage, 3 engine or system failure. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "protocol.h"
#include "daemon.h"
#include "engine.h"
#include "report.h"
#include "report_html.h"
#include "suggest.h"
#include "tail.h"

#include "tandem/version.h"

enum { EXIT_OK = 0, EXIT_INPUT = 1, EXIT_USAGE = 2, EXIT_ENGINE = 3 };

static const char USAGE[] =
    "usage: tandem VERB [options]\n"
    "\n"
    "  check RULES.lua                      validate rule files; FILE:LINE errors\n"
    "  simulate RULES.lua --people F.csv    run the program in virtual time and report\n"
    "  run RULES.lua [--people F.csv]       the daemon, on a real clock\n"
    "  ctl [--state DIR] COMMAND ...        talk to a running daemon\n"
    "  tail [--state DIR] [-f] [filters]    show (and follow) the event log\n"
    "  report [--state DIR] [--format F]    program health from the event log (text, json, html)\n"
    "\n"
    "tandem VERB --help shows a verb's options. tandem --version prints the version.\n";

static const char USAGE_CHECK[] =
    "usage: tandem check RULES.lua\n"
    "\n"
    "Loads the rule file (and the model files it names) in the sandbox, as `run` and\n"
    "`simulate` would, and reports every problem as FILE:LINE: message.\n"
    "Exit 0 when the rules load, 1 when they do not.\n";

static const char USAGE_SIMULATE[] =
    "usage: tandem simulate RULES.lua --people F.csv [options]\n"
    "\n"
    "Runs the programs in RULES.lua over the people in F.csv in virtual time, drawing\n"
    "attendance, ratings, goal progress and re-up decisions from a seeded behaviour\n"
    "model (tune it with tandem.simulation{...}), writes every fact to\n"
    "STATE/events.jsonl and prints the report. The same seed, rules and people give a\n"
    "byte-identical log.\n"
    "\n"
    "  --people F.csv   the HRIS export (required)\n"
    "  --days N         how long to simulate (default 365)\n"
    "  --start DATE     the first day, e.g. 2027-01-01 (default: next 1 January)\n"
    "  --seed N         the behaviour model's seed (default 1)\n"
    "  --state DIR      where the log goes (default ./sim-state); a previous\n"
    "                   simulation there is replaced, a live daemon's log never is\n"
    "  --lenient        import the good rows of a CSV with bad rows\n"
    "  --quiet          no progress and no report\n"
    "  --plugin P       load a plugin: a built-in (ics, exec, sqlite), a NAME.so on\n"
    "                   TANDEM_PLUGIN_PATH, or a path to a .so (repeatable)\n"
    "  --plugin-config JSON  the config object of the --plugin before it\n";

static const char USAGE_RUN[] =
    "usage: tandem run RULES.lua [--people F.csv] [--state DIR] [--fsync always|batch|off]\n"
    "                 [--socket-mode MODE] [--snapshot-every N] [--lenient]\n"
    "                 [--plugin P [--plugin-config JSON]]...\n"
    "\n"
    "Runs the programs on a real clock: replays STATE/events.jsonl (a torn last line is\n"
    "cut and kept aside), fires what fell due while it was down, then serves the control\n"
    "socket STATE/tandem.sock (mode 0600; --socket-mode 0660 widens it). A command is\n"
    "acknowledged only once its events are on disk: --fsync always syncs every command,\n"
    "batch (default) gives the commands read in one turn of the loop one write and one sync,\n"
    "off leaves it to the OS (a crash can lose acknowledged facts).\n"
    "--people imports new people and updates changed ones at start.\n"
    "A snapshot of the state (STATE/snapshot-SEQ.json, the newest two kept) is written\n"
    "every --snapshot-every events (default 100000; 0: only on `tandem ctl snapshot`);\n"
    "a start loads the newest valid one and replays only the log after it.\n"
    "SIGHUP or `tandem ctl reload` reloads the rules (a failing file is rejected and the\n"
    "old rules go on); SIGTERM or SIGINT syncs the log and exits 0.\n"
    "--plugin loads a plugin (a built-in: ics, exec, sqlite; NAME.so on TANDEM_PLUGIN_PATH;\n"
    "or a path to a .so), --plugin-config JSON gives it its config; it sees every event it\n"
    "subscribed to once the event is on disk. Rules load plugins with tandem.plugin(...).\n";

static const char USAGE_CTL[] =
    "usage: tandem ctl [--state DIR] COMMAND [--FIELD VALUE ...]\n"
    "       tandem ctl [--state DIR] send '{\"cmd\":\"status\"}'\n"
    "\n"
    "Sends one command to the daemon on STATE/tandem.sock and prints its JSON reply.\n"
    "Exit 0 when the daemon answered ok, 1 when it refused the command, 3 when it\n"
    "cannot be reached. Commands and their fields:\n\n";

static const char USAGE_TAIL[] =
    "usage: tandem tail [--state DIR] [-f] [--type T,..] [--program NAME] [--match ID]\n"
    "                   [--person ID] [--since DATE] [--json] [--color auto|always|never]\n"
    "\n"
    "Prints the event log, one event a line: seq, time, type, then its fields (control\n"
    "characters escaped). Coloured on a terminal unless NO_COLOR is set.\n"
    "  -f, --follow     keep following new events until interrupted\n"
    "  --type T,..      only these event types (e.g. match,close)\n"
    "  --program NAME   only events about this program (its enrolments, matches, feedback)\n"
    "  --match ID       only events about this match\n"
    "  --person ID      only events that name this person\n"
    "  --since DATE     only events at or after DATE (2027-03-01 or 2027-03-01T09:00:00Z)\n"
    "  --json           each verified event as one JSON line (crc left out), for jq\n"
    "  --color WHEN     auto (default: on a terminal), always or never\n"
    "  --state DIR      the state directory (default ./state)\n";

static const char USAGE_REPORT[] =
    "usage: tandem report [--state DIR] [--format text|json|html] [--since DATE] [--until DATE]\n"
    "                     [--program NAME]\n"
    "\n"
    "Program health computed from STATE/events.jsonl alone (no rule runs): per program and\n"
    "per priority, people enrolled, matched share and time to match, meetings held and\n"
    "missed per match, goals set and achieved, feedback both ways and on the program, re-up\n"
    "renew rate, stalled and flagged matches, cross-department and diversity share of\n"
    "pairings, rule errors; weekly series, the re-up funnel and the model mix.\n"
    "  --format F       text (default, 100 columns), json (schema in the README) or html\n"
    "                   (one self-contained page with SVG charts)\n"
    "  --since DATE     count events at or after DATE (2027-01-01 or an RFC 3339 time)\n"
    "  --until DATE     ... and before DATE; the state is read as it was then\n"
    "  --program NAME   only this program\n"
    "  --state DIR      the state directory (default ./state)\n";

/* ---- --plugin and --plugin-config (run and simulate) ---- */

#define PLUGINS_MAX 32

struct plugin_opts {
    const char *what[PLUGINS_MAX];
    const char *text[PLUGINS_MAX];   /* --plugin-config as given */
    cJSON *config[PLUGINS_MAX];      /* parsed by plugin_opts_parse */
    int n;
};

static void plugin_opts_free(struct plugin_opts *po)
{
    for (int i = 0; i < po->n; i++)
        cJSON_Delete(po->config[i]);
    po->n = 0;
}

/* --plugin NAME|PATH adds one; --plugin-config JSON gives the last one its config. Returns 0, or
 * a message for a usage error in why. */
static int plugin_opt(struct plugin_opts *po, bool config, const char *arg, char *why, size_t why_len)
{
    if (!config) {
        if (po->n == PLUGINS_MAX) {
            snprintf(why, why_len, "at most %d --plugin options", PLUGINS_MAX);
            return -1;
        }
        po->what[po->n] = arg;
        po->text[po->n] = NULL;
        po->config[po->n++] = NULL;
        return 0;
    }
    if (po->n == 0 || po->text[po->n - 1]) {
        snprintf(why, why_len, "--plugin-config follows the --plugin it configures (once)");
        return -1;
    }
    po->text[po->n - 1] = arg;
    return 0;
}

/* Parses every --plugin-config once the command line is known to be right. */
static int plugin_opts_parse(struct plugin_opts *po)
{
    for (int i = 0; i < po->n; i++) {
        if (!po->text[i])
            continue;
        cJSON *c = cJSON_ParseWithOpts(po->text[i], NULL, 1);
        if (!cJSON_IsObject(c)) {
            cJSON_Delete(c);
            fprintf(stderr, "tandem: --plugin-config for %s must be a JSON object, like '{\"key\":\"value\"}'\n",
                    po->what[i]);
            plugin_opts_free(po);
            return -1;
        }
        po->config[i] = c;
    }
    return 0;
}

static int print_error(const struct error *err)
{
    char buf[1200];
    fprintf(stderr, "tandem: %s\n", error_text(err, buf, sizeof buf));
    return err->code == ERR_SYSTEM ? EXIT_ENGINE : EXIT_INPUT;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "tandem: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage);
    return EXIT_USAGE;
}

/* ---- check ---- */

static int cmd_check(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_CHECK, stdout);
        return EXIT_OK;
    }
    if (argc != 2)
        return usage_error(USAGE_CHECK, "check takes one rule file%s", "");
    struct rules *r;
    struct error err = { 0 };
    if (rules_load(argv[1], NULL, &r, &err) < 0)
        return print_error(&err);
    printf("%s: ok: %d program%s", argv[1], r->n_programs, r->n_programs == 1 ? "" : "s");
    for (int i = 0; i < r->n_programs; i++)
        printf("%s %s (%s)", i ? "," : ":", r->programs[i].def.name, r->programs[i].def.model);
    printf("\n");
    rules_free(r);
    return EXIT_OK;
}

/* ---- simulate ---- */

struct progress {
    tdm_time start, end;
    bool tty;
    int last;
};

static void show_progress(void *ctx, tdm_time now)
{
    struct progress *p = ctx;
    if (!p->tty || p->end <= p->start)
        return;
    int pct = (int)((now - p->start) * 100 / (p->end - p->start));
    if (pct == p->last)
        return;
    p->last = pct;
    char day[21];
    time_format(now, day);
    day[10] = '\0';
    int filled = pct * 30 / 100;
    fprintf(stderr, "\r  simulating [%.*s%*s] %3d%% %s", filled, "##############################",
            30 - filled, "", pct, day);
    if (pct >= 100)
        fprintf(stderr, "\n");
}

/* A simulation may replace its own earlier log, never a live one. */
static bool log_is_live(const char *state_dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/events.jsonl", state_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool live = fgets(line, sizeof line, f) && !strstr(line, "\"clock\":\"virtual\"");
    fclose(f);
    return live;
}

static int cmd_simulate(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_SIMULATE, stdout);
        return EXIT_OK;
    }
    static const struct option opts[] = {
        { "people", required_argument, 0, 'p' }, { "days", required_argument, 0, 'd' },
        { "start", required_argument, 0, 's' },  { "seed", required_argument, 0, 'S' },
        { "state", required_argument, 0, 'D' },  { "quiet", no_argument, 0, 'q' },
        { "lenient", no_argument, 0, 'l' },      { "plugin", required_argument, 0, 'P' },
        { "plugin-config", required_argument, 0, 'C' }, { 0, 0, 0, 0 },
    };
    struct plugin_opts po = { .n = 0 };
    char why[300];
    const char *people = NULL, *state_dir = "./sim-state";
    long days = 365;
    unsigned long long seed = 1;
    bool quiet = false, lenient = false;
    tdm_time start = 0;
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    start = days_from_civil(tm.tm_year + 1900 + 1, 1, 1) * 86400;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p': people = optarg; break;
        case 'D': state_dir = optarg; break;
        case 'q': quiet = true; break;
        case 'l': lenient = true; break;
        case 'P':
        case 'C':
            if (plugin_opt(&po, c == 'C', optarg, why, sizeof why) < 0)
                return usage_error(USAGE_SIMULATE, "%s", why);
            break;
        case 'd':
            days = strtol(optarg, &end, 10);
            if (*end || days < 1 || days > 36500)
                return usage_error(USAGE_SIMULATE, "--days must be a whole number from 1 to 36500, not \"%s\"",
                                   optarg);
            break;
        case 'S':
            errno = 0;
            seed = strtoull(optarg, &end, 10);
            if (*end || errno || optarg[0] == '-')
                return usage_error(USAGE_SIMULATE, "--seed must be a whole number, not \"%s\"", optarg);
            break;
        case 's':
            if (time_parse(optarg, &start) < 0)
                return usage_error(USAGE_SIMULATE, "--start must be a date like 2027-01-01, not \"%s\"", optarg);
            break;
        default: return usage_error(USAGE_SIMULATE, "bad option%s", "");
        }
    }
    if (optind != argc - 1)
        return usage_error(USAGE_SIMULATE, "simulate takes one rule file%s", "");
    if (!people)
        return usage_error(USAGE_SIMULATE, "simulate needs --people F.csv%s", "");
    const char *rules_path = argv[optind];

    if (plugin_opts_parse(&po) < 0)
        return EXIT_USAGE;
    struct error err = { 0 };
    struct rules *r;
    if (rules_load(rules_path, NULL, &r, &err) < 0) {
        plugin_opts_free(&po);
        return print_error(&err);
    }
    if (log_is_live(state_dir)) {
        plugin_opts_free(&po);
        rules_free(r);
        fprintf(stderr, "tandem: %s holds a live daemon's log; simulate into another --state\n", state_dir);
        return EXIT_INPUT;
    }
    struct engine e;
    struct engine_options o = { .state_dir = state_dir, .sync = JOURNAL_SYNC_OFF, .simulate = true,
                                .seed = seed, .start = start, .diag = stderr };
    if (engine_open(&e, &o, &err) < 0) {
        plugin_opts_free(&po);
        rules_free(r);
        engine_close(&e);
        return print_error(&err);
    }
    int rc = 0;
    for (int i = 0; rc == 0 && i < po.n; i++)
        rc = engine_load_plugin(&e, po.what[i], po.config[i], &err);
    plugin_opts_free(&po);
    if (rc == 0)
        rc = engine_load_rule_plugins(&e, r, &err);
    if (rc < 0) {
        rules_free(r);
        engine_close(&e);
        return print_error(&err);
    }
    rc = engine_use_rules(&e, r, &err);
    struct people_csv_result res = { 0 };
    if (rc == 0)
        rc = engine_import_people(&e, people, stderr, &res, &err);
    if (rc < 0) {
        engine_close(&e);
        return print_error(&err);
    }
    if (!quiet || res.refused)
        fprintf(stderr, "%s: took %d people, refused %d\n", people, res.taken, res.refused);
    if (res.refused > 0 && !lenient) {
        engine_close(&e);
        fprintf(stderr, "tandem: %s has bad rows (above); fix them or pass --lenient\n", people);
        return EXIT_INPUT;
    }
    struct progress prog = { start, start + days * 86400LL, !quiet && isatty(2), -1 };
    rc = engine_advance(&e, start + days * 86400LL, show_progress, &prog, &err);
    if (rc == 0)
        rc = engine_sync(&e, &err);
    if (rc < 0) {
        engine_close(&e);
        return print_error(&err);
    }
    engine_close(&e);
    if (!quiet) {
        /* The same report as `tandem report` on this log, by the same road. */
        char path[4200];
        snprintf(path, sizeof path, "%s/events.jsonl", state_dir);
        cJSON *j;
        if (report_from_log(path, NULL, stderr, &j, &err) < 0)
            return print_error(&err);
        report_text(j, stdout);
        cJSON_Delete(j);
    }
    return EXIT_OK;
}

/* ---- run and ctl ---- */

static int cmd_run(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_RUN, stdout);
        return EXIT_OK;
    }
    static const struct option opts[] = {
        { "people", required_argument, 0, 'p' }, { "state", required_argument, 0, 'D' },
        { "fsync", required_argument, 0, 'f' },  { "socket-mode", required_argument, 0, 'm' },
        { "lenient", no_argument, 0, 'l' },      { "snapshot-every", required_argument, 0, 'n' },
        { "plugin", required_argument, 0, 'P' }, { "plugin-config", required_argument, 0, 'C' },
        { 0, 0, 0, 0 },
    };
    struct plugin_opts po = { .n = 0 };
    char why[300];
    struct daemon_options o = { .state_dir = "./state", .sync = JOURNAL_SYNC_BATCH, .socket_mode = 0600,
                                .snapshot_every = 100000 };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'p': o.people = optarg; break;
        case 'D': o.state_dir = optarg; break;
        case 'l': o.lenient = true; break;
        case 'P':
        case 'C':
            if (plugin_opt(&po, c == 'C', optarg, why, sizeof why) < 0)
                return usage_error(USAGE_RUN, "%s", why);
            break;
        case 'n':
            o.snapshot_every = strtoll(optarg, &end, 10);
            if (*end || o.snapshot_every < 0)
                return usage_error(USAGE_RUN, "--snapshot-every takes a number of events (0: never), not \"%s\"",
                                   optarg);
            break;
        case 'f':
            if (strcmp(optarg, "always") == 0) o.sync = JOURNAL_SYNC_ALWAYS;
            else if (strcmp(optarg, "batch") == 0) o.sync = JOURNAL_SYNC_BATCH;
            else if (strcmp(optarg, "off") == 0) o.sync = JOURNAL_SYNC_OFF;
            else return usage_error(USAGE_RUN, "--fsync must be always, batch or off, not \"%s\"", optarg);
            break;
        case 'm':
            o.socket_mode = (int)strtol(optarg, &end, 8);
            if (*end || o.socket_mode < 0600 || o.socket_mode > 0777 || (o.socket_mode & 0600) != 0600)
                return usage_error(USAGE_RUN, "--socket-mode must be an octal mode from 0600 to 0777, not \"%s\"",
                                   optarg);
            break;
        default: return usage_error(USAGE_RUN, "bad option%s", "");
        }
    }
    if (optind != argc - 1)
        return usage_error(USAGE_RUN, "run takes one rule file%s", "");
    o.rules = argv[optind];
    if (plugin_opts_parse(&po) < 0)
        return EXIT_USAGE;
    o.plugins = po.what;
    o.plugin_configs = po.config;
    o.n_plugins = po.n;
    struct error err = { 0 };
    int code = daemon_run(&o, &err);
    plugin_opts_free(&po);
    if (code != 0 && err.msg[0]) {
        char buf[1200];
        fprintf(stderr, "tandem: %s\n", error_text(&err, buf, sizeof buf));
    }
    return code;
}

static int cmd_ctl(int argc, char **argv)
{
    const char *state_dir = "./state";
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--state") == 0) {
        state_dir = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        fputs(USAGE_CTL, i >= argc ? stderr : stdout);
        protocol_usage(i >= argc ? stderr : stdout);
        fputs("  send            any raw protocol line\n", i >= argc ? stderr : stdout);
        return i >= argc ? EXIT_USAGE : EXIT_OK;
    }
    char why[512];
    char *line;
    if (strcmp(argv[i], "send") == 0) {
        if (i + 2 != argc)
            return usage_error(USAGE_CTL, "send takes one protocol line%s", "");
        line = strdup(argv[i + 1]);
    } else {
        cJSON *cmd = protocol_from_args(argc - i, argv + i, why, sizeof why);
        if (!cmd)
            return usage_error(USAGE_CTL, "%s", why);
        line = cJSON_PrintUnformatted(cmd);
        cJSON_Delete(cmd);
    }
    char sock[4200];
    snprintf(sock, sizeof sock, "%s/tandem.sock", state_dir);
    char *reply = control_send(sock, line, why, sizeof why);
    free(line);
    if (!reply) {
        fprintf(stderr, "tandem: %s\n", why);
        return EXIT_ENGINE;
    }
    cJSON *r = cJSON_Parse(reply);
    bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "ok"));
    char *pretty = r ? cJSON_Print(r) : NULL;
    puts(pretty ? pretty : reply);
    free(pretty);
    cJSON_Delete(r);
    free(reply);
    return ok ? EXIT_OK : EXIT_INPUT;
}

/* ---- report ---- */

/* A --since/--until value: a date or an RFC 3339 time. */
static bool parse_when(const char *arg, tdm_time *out)
{
    return time_parse(arg, out) == 0;
}

static int cmd_report(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_REPORT, stdout);
        return EXIT_OK;
    }
    static const struct option opts[] = {
        { "state", required_argument, 0, 'D' }, { "format", required_argument, 0, 'f' },
        { "since", required_argument, 0, 's' }, { "until", required_argument, 0, 'u' },
        { "program", required_argument, 0, 'p' }, { 0, 0, 0, 0 },
    };
    const char *state_dir = "./state", *format = "text";
    struct report_options ro = { 0 };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'D') state_dir = optarg;
        else if (c == 'f') format = optarg;
        else if (c == 'p') ro.program = optarg;
        else if (c == 's' && !parse_when(optarg, &ro.since))
            return usage_error(USAGE_REPORT, "--since takes a date like 2027-01-01, not \"%s\"", optarg);
        else if (c == 'u' && !parse_when(optarg, &ro.until))
            return usage_error(USAGE_REPORT, "--until takes a date like 2027-07-01, not \"%s\"", optarg);
        else if (c != 's' && c != 'u') return usage_error(USAGE_REPORT, "bad option%s", "");
    }
    if (optind != argc)
        return usage_error(USAGE_REPORT, "unexpected argument \"%s\"", argv[optind]);
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0 && strcmp(format, "html") != 0)
        return usage_error(USAGE_REPORT, "--format must be text, json or html, not \"%s\"", format);
    if (ro.until && ro.until <= ro.since)
        return usage_error(USAGE_REPORT, "--until must be after --since%s", "");
    char path[4200];
    snprintf(path, sizeof path, "%s/events.jsonl", state_dir);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "tandem: no event log at %s (use --state DIR)\n", path);
        return EXIT_INPUT;
    }
    struct error err = { 0 };
    cJSON *j;
    if (report_from_log(path, &ro, stderr, &j, &err) < 0)
        return print_error(&err);
    if (strcmp(format, "json") == 0) {
        char *text = cJSON_Print(j);
        puts(text);
        free(text);
    } else if (strcmp(format, "html") == 0) {
        report_html(j, stdout);
    } else {
        report_text(j, stdout);
    }
    cJSON_Delete(j);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_ENGINE;
}

/* ---- tail ---- */

static int cmd_tail(int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        fputs(USAGE_TAIL, stdout);
        return EXIT_OK;
    }
    static const struct option opts[] = {
        { "state", required_argument, 0, 'D' },   { "follow", no_argument, 0, 'f' },
        { "type", required_argument, 0, 't' },    { "match", required_argument, 0, 'm' },
        { "person", required_argument, 0, 'p' },  { "json", no_argument, 0, 'j' },
        { "program", required_argument, 0, 'P' }, { "since", required_argument, 0, 's' },
        { "color", required_argument, 0, 'c' },   { 0, 0, 0, 0 },
    };
    const char *state_dir = "./state", *color = "auto";
    struct tail_options o = { 0 };
    char *types = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'D': state_dir = optarg; break;
        case 'f': o.follow = true; break;
        case 'j': o.json = true; break;
        case 'p': o.person = optarg; break;
        case 'P': o.program = optarg; break;
        case 't': types = optarg; break;
        case 'c': color = optarg; break;
        case 's':
            if (!parse_when(optarg, &o.since))
                return usage_error(USAGE_TAIL, "--since takes a date like 2027-01-01, not \"%s\"", optarg);
            break;
        case 'm':
            o.match = strtoll(optarg, &end, 10);
            if (*end || o.match < 1)
                return usage_error(USAGE_TAIL, "--match takes a match id, not \"%s\"", optarg);
            break;
        default: return usage_error(USAGE_TAIL, "bad option%s", "");
        }
    }
    if (optind != argc)
        return usage_error(USAGE_TAIL, "unexpected argument \"%s\"", argv[optind]);
    if (strcmp(color, "auto") != 0 && strcmp(color, "always") != 0 && strcmp(color, "never") != 0)
        return usage_error(USAGE_TAIL, "--color must be auto, always or never, not \"%s\"", color);
    /* NO_COLOR (no-color.org): any non-empty value turns colour off unless asked for. */
    const char *no_color = getenv("NO_COLOR");
    o.color = !o.json && (strcmp(color, "always") == 0 ||
                          (strcmp(color, "auto") == 0 && isatty(1) && !(no_color && *no_color)));
    char *copy = types ? strdup(types) : NULL;
    for (char *tok = copy ? strtok(copy, ",") : NULL; tok && o.n_types < TAIL_MAX_TYPES; tok = strtok(NULL, ",")) {
        o.types[o.n_types++] = tok;
        int k = 0;
        while (tail_known_types[k] && strcmp(tail_known_types[k], tok) != 0)
            k++;
        const char *near = tail_known_types[k] ? NULL : suggest_nearest(tok, tail_known_types, k);
        if (near)   /* a newer engine's type is still followed: only a note */
            fprintf(stderr, "tandem: note: no event type \"%s\" is known (did you mean \"%s\"?)\n", tok, near);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/events.jsonl", state_dir);
    o.path = path;
    if (access(path, R_OK) != 0) {
        free(copy);
        fprintf(stderr, "tandem: no event log at %s (use --state DIR)\n", path);
        return EXIT_INPUT;
    }
    struct error err = { 0 };
    int rc = tail_run(&o, &err);
    free(copy);
    return rc < 0 ? print_error(&err) : EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("tandem %s\n", TANDEM_VERSION);
        return EXIT_OK;
    }
    const char *verb = argv[1];
    argc--;
    argv++;
    if (strcmp(verb, "check") == 0) return cmd_check(argc, argv);
    if (strcmp(verb, "simulate") == 0) return cmd_simulate(argc, argv);
    if (strcmp(verb, "report") == 0) return cmd_report(argc, argv);
    if (strcmp(verb, "run") == 0) return cmd_run(argc, argv);
    if (strcmp(verb, "ctl") == 0) return cmd_ctl(argc, argv);
    if (strcmp(verb, "tail") == 0) return cmd_tail(argc, argv);
    fprintf(stderr, "tandem: unknown verb \"%s\"\n\n%s", verb, USAGE);
    return EXIT_USAGE;
}
