/* control: the control protocol — one JSON command per line in, one JSON reply per line
 * out, over STATE/tandem.sock — its validation, the `tandem ctl` client, and the
 * libuv server the daemon listens with. It never executes a command: the daemon does.
 * Every bad line gets an error reply naming the problem; the connection goes on. */
#ifndef TANDEM_CONTROL_H
#define TANDEM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <uv.h>

#define CONTROL_LINE_MAX (64 * 1024)     /* bytes in one command line, newline excluded */
#define CONTROL_CLIENTS_MAX 256
#define CONTROL_IDLE_MS (10 * 60 * 1000) /* a client silent this long is closed */

/* Parses and validates one line: strict JSON (no trailing bytes, no duplicate keys, valid
 * UTF-8, no \u0000, integers within 2^53), an object with a known "cmd" and only that
 * command's fields, each of its type. Returns the object (caller owns it) or NULL with a
 * reason in why. */
cJSON *control_parse(const char *line, size_t len, char *why, size_t why_len);

/* Builds a command from ctl's words and flags: `meeting held --match 17` ->
 * {"cmd":"meeting.held","match":17}. Returns NULL with a reason in why. */
cJSON *control_from_args(int argc, char **argv, char *why, size_t why_len);

/* Prints the usage of every command and its fields (for `tandem ctl --help`). */
void control_usage(FILE *out);

/* Sends one line to the daemon at sock_path and reads its reply (caller frees).
 * Returns NULL with a reason in why when the daemon cannot be reached. */
char *control_send(const char *sock_path, const char *line, char *why, size_t why_len);

/* ---- the server ---- */

struct control_server;
struct control_client;

/* Called for each valid command line. The handler must eventually call control_reply
 * exactly once for it (now, or after the group commit). Replies reach each client in the
 * order its lines came. */
typedef void (*control_cmd_fn)(void *ctx, struct control_client *c, cJSON *cmd, unsigned long long ticket);

/* Listens on path (created under umask 077, then chmod to mode). A stale socket file with
 * no listener is replaced; a live one is refused. Returns 0 or a negative code with why. */
int control_listen(uv_loop_t *loop, const char *path, int mode, control_cmd_fn fn, void *ctx,
                   struct control_server **out, char *why, size_t why_len);
/* Queues the reply (a JSON object; consumed) for the line with this ticket. */
void control_reply(struct control_server *s, struct control_client *c, unsigned long long ticket, cJSON *reply);
/* Sends the replies gathered since the last flush (replies made outside a client's read,
 * such as at a group commit, wait for this). */
void control_flush(struct control_server *s);
/* Stops listening, closes every client, removes the socket file; the loop must run once more
 * for the handles to close. */
void control_close(struct control_server *s);
int control_clients(const struct control_server *s);

#endif
