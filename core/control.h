/* control: the control socket — one JSON command per line in, one JSON reply per line out,
 * over STATE/tandem.sock — the `tandem ctl` client and the libuv server the daemon listens
 * with. Lines are validated by protocol.h; control never executes a command: the daemon does.
 * Every bad line gets an error reply naming the problem; the connection goes on. */
#ifndef TANDEM_CONTROL_H
#define TANDEM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>
#include <uv.h>

#define CONTROL_CLIENTS_MAX 256
#define CONTROL_IDLE_MS (10 * 60 * 1000) /* a client silent this long is closed */

/* Sends one line to the daemon at sock_path and reads its reply (caller frees).
 * Returns NULL with a reason in why when the daemon cannot be reached. */
char *control_send(const char *sock_path, const char *line, char *why, size_t why_len);

/* ---- the server ---- */

struct control_server;
struct control_client;

/* Called for each valid command line. The handler must eventually call control_reply
 * exactly once for it (now, or after the group commit). Replies reach each client in the
 * order its lines came. cmd is the server's: valid during the call only (it may be read in
 * place from the client's buffer), freed by the server. */
typedef void (*control_cmd_fn)(void *ctx, struct control_client *c, cJSON *cmd, unsigned long long ticket);

/* Listens on path (created under umask 077, then chmod to mode). A stale socket file with
 * no listener is replaced; a live one is refused. Returns 0 or a negative code with why. */
int control_listen(uv_loop_t *loop, const char *path, int mode, control_cmd_fn fn, void *ctx,
                   struct control_server **out, char *why, size_t why_len);
/* Queues the reply (a JSON object; consumed) for the line with this ticket. */
void control_reply(struct control_server *s, struct control_client *c, unsigned long long ticket, cJSON *reply);
/* The same for a reply already printed: text is one JSON object and its '\n', from malloc
 * (consumed); NULL stands for out of memory and sends an error reply. */
void control_reply_line(struct control_server *s, struct control_client *c, unsigned long long ticket, char *text);
/* Prints a reply (consumed) as control_reply_line takes it; NULL when out of memory. */
char *control_line(cJSON *reply);
/* Sends the replies gathered since the last flush (replies made outside a client's read,
 * such as at a group commit, wait for this). */
void control_flush(struct control_server *s);
/* Stops listening, closes every client, removes the socket file; the loop must run once more
 * for the handles to close. */
void control_close(struct control_server *s);
int control_clients(const struct control_server *s);

#endif
