/* control: the ctl client (plain blocking POSIX sockets) and the libuv server; what a line
 * may say is protocol's. Replies are queued per client by ticket, so a client sees its
 * replies in the order of its lines even when some wait for a group commit. */
#include "control.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "protocol.h"

/* ---- the client ---- */

char *control_send(const char *sock_path, const char *line, char *why, size_t why_len)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(sock_path) >= sizeof addr.sun_path) {
        snprintf(why, why_len, "socket path too long: %s", sock_path);
        return NULL;
    }
    strcpy(addr.sun_path, sock_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        snprintf(why, why_len, "cannot reach the daemon at %s: %s", sock_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    size_t len = strlen(line);
    char *msg = malloc(len + 2);
    if (!msg) {
        close(fd);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    memcpy(msg, line, len);
    msg[len] = '\n';
    size_t off = 0;
    while (off < len + 1) {
        ssize_t n = send(fd, msg + off, len + 1 - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(why, why_len, "write to the daemon failed: %s", strerror(errno));
            free(msg);
            close(fd);
            return NULL;
        }
        off += (size_t)n;
    }
    free(msg);
    size_t cap = 4096, got = 0;
    char *buf = malloc(cap);
    if (!buf) {
        close(fd);
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    for (;;) {
        if (got + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                close(fd);
                snprintf(why, why_len, "out of memory reading the reply");
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + got, cap - got - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(buf + got - (size_t)n, '\n', (size_t)n))
            break;
    }
    close(fd);
    buf[got] = '\0';
    char *nl = strchr(buf, '\n');
    if (!nl) {
        snprintf(why, why_len, "the daemon closed the connection without a reply");
        free(buf);
        return NULL;
    }
    *nl = '\0';
    return buf;
}

/* ---- the server ---- */

struct pending_reply {
    unsigned long long ticket;
    char *text;               /* NULL until the reply is ready */
};

struct control_client {
    uv_pipe_t pipe;
    uv_timer_t idle;
    struct control_server *server;
    char *buf;
    size_t len, cap;
    bool discarding;          /* inside an overlong line: drop bytes up to its newline */
    bool closing;
    bool paused;              /* reading stopped until the client reads its replies */
    char *out;                /* replies ready to send, gathered into one write */
    size_t out_len, out_cap;
    int handles_open;
    struct pending_reply *pending;
    int n_pending, cap_pending;
    unsigned long long next_ticket;
    struct control_client *next;
};

struct control_server {
    uv_pipe_t pipe;
    uv_loop_t *loop;
    char *path;
    control_cmd_fn fn;
    void *ctx;
    struct control_client *clients;
    int n_clients;
};

struct write_req {
    uv_write_t req;
    char *text;
    struct control_client *client;
};

/* A client that sends without reading its replies is not read from until it catches up:
 * its replies would otherwise pile up in the daemon's memory. */
#define CLIENT_PENDING_MAX 1024
#define CLIENT_UNSENT_MAX (1u << 20)

static bool too_full(struct control_client *c)
{
    return c->n_pending > CLIENT_PENDING_MAX ||
           uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) + c->out_len > CLIENT_UNSENT_MAX;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void maybe_free_client(struct control_client *c)
{
    if (c->handles_open > 0 || c->n_pending > 0)
        return;
    for (int i = 0; i < c->n_pending; i++)
        free(c->pending[i].text);
    free(c->pending);
    free(c->buf);
    free(c->out);
    free(c);
}

static void on_client_handle_closed(uv_handle_t *h)
{
    struct control_client *c = h->data;
    c->handles_open--;
    maybe_free_client(c);
}

static void client_close(struct control_client *c)
{
    if (c->closing)
        return;
    c->closing = true;
    struct control_server *s = c->server;
    for (struct control_client **p = &s->clients; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    s->n_clients--;
    uv_close((uv_handle_t *)&c->pipe, on_client_handle_closed);
    uv_close((uv_handle_t *)&c->idle, on_client_handle_closed);
}

/* A client paused by too_full is read again once it has caught up by half. */
static void maybe_resume(struct control_client *c)
{
    if (c->paused && !c->closing && c->n_pending <= CLIENT_PENDING_MAX / 2 &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) <= CLIENT_UNSENT_MAX / 2) {
        c->paused = false;
        uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    }
}

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct control_client *c = w->client;
    (void)status;   /* a client that went away just misses its reply */
    free(w->text);
    free(w);
    maybe_resume(c);
}

/* Sends what replies have gathered with one write (one syscall for many replies): at once
 * when the socket takes it all (no write request, no completion callback and no epoll_ctl
 * to stop watching for POLLOUT), else what is left is queued. */
static void client_flush(struct control_client *c)
{
    if (c->closing || c->out_len == 0)
        return;
    uv_buf_t now = uv_buf_init(c->out, (unsigned)c->out_len);
    int sent = uv_try_write((uv_stream_t *)&c->pipe, &now, 1);
    if (sent == (int)c->out_len) {
        c->out_len = 0;
        maybe_resume(c);
        return;
    }
    if (sent > 0) {
        memmove(c->out, c->out + sent, c->out_len - (size_t)sent);
        c->out_len -= (size_t)sent;
    }
    struct write_req *w = malloc(sizeof *w);
    if (!w) {
        client_close(c);
        return;
    }
    w->text = c->out;
    w->client = c;
    uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, on_written) < 0) {
        free(w->text);
        free(w);
        client_close(c);
    }
}

static void write_text(struct control_client *c, char *text)
{
    size_t n = strlen(text);
    if (!c->closing && c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *nb = realloc(c->out, cap);
        if (!nb) {
            free(text);
            client_close(c);
            return;
        }
        c->out = nb;
        c->out_cap = cap;
    }
    if (!c->closing) {
        memcpy(c->out + c->out_len, text, n);
        c->out_len += n;
        if (c->out_len >= 65536)
            client_flush(c);
    }
    free(text);
}

void control_flush(struct control_server *s)
{
    for (struct control_client *c = s ? s->clients : NULL; c; c = c->next)
        client_flush(c);
}

/* Sends every ready reply at the head of the queue, in ticket order. */
static void flush_replies(struct control_client *c)
{
    int k = 0;
    while (k < c->n_pending && c->pending[k].text)
        write_text(c, c->pending[k++].text);
    memmove(c->pending, c->pending + k, (size_t)(c->n_pending - k) * sizeof *c->pending);
    c->n_pending -= k;
}

static unsigned long long take_ticket(struct control_client *c)
{
    if (c->n_pending == c->cap_pending) {
        c->cap_pending = c->cap_pending ? c->cap_pending * 2 : 8;
        c->pending = realloc(c->pending, (size_t)c->cap_pending * sizeof *c->pending);
    }
    unsigned long long t = c->next_ticket++;
    c->pending[c->n_pending++] = (struct pending_reply){ t, NULL };
    return t;
}

char *control_line(cJSON *reply)
{
    char *text = cJSON_PrintUnformatted(reply);
    cJSON_Delete(reply);
    size_t n = text ? strlen(text) : 0;
    char *line = text ? realloc(text, n + 2) : NULL;
    if (!line) {
        free(text);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    return line;
}

void control_reply(struct control_server *s, struct control_client *c, unsigned long long ticket, cJSON *reply)
{
    control_reply_line(s, c, ticket, control_line(reply));
}

void control_reply_line(struct control_server *s, struct control_client *c, unsigned long long ticket, char *text)
{
    (void)s;
    if (!text)
        text = strdup("{\"ok\":false,\"error\":\"out of memory\"}\n");
    for (int i = 0; i < c->n_pending; i++)
        if (c->pending[i].ticket == ticket) {
            c->pending[i].text = text;
            break;
        }
    flush_replies(c);
    if (c->closing) {
        /* Gone before its replies: drop what is ready, free when nothing is owed. */
        while (c->n_pending > 0 && c->pending[0].text) {
            free(c->pending[0].text);
            memmove(c->pending, c->pending + 1, (size_t)--c->n_pending * sizeof *c->pending);
        }
        maybe_free_client(c);
    }
}

static void reply_error(struct control_client *c, const char *why)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddFalseToObject(r, "ok");
    cJSON_AddStringToObject(r, "error", why);
    control_reply(c->server, c, take_ticket(c), r);
}

static void handle_line(struct control_client *c, char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (len == 0)
        return;
    char why[256] = "";
    struct protocol_view view;
    bool borrowed;
    cJSON *cmd = protocol_parse_view(line, len, &view, &borrowed, why, sizeof why);   /* line[len]: '\n' or '\r' */
    if (!cmd) {
        reply_error(c, why);
        return;
    }
    c->server->fn(c->server->ctx, c, cmd, take_ticket(c));
    if (!borrowed)
        cJSON_Delete(cmd);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct control_client *c = h->data;
    (void)suggested;
    if (c->cap - c->len < 16384) {
        c->cap = c->cap ? c->cap * 2 : 32768;
        c->buf = realloc(c->buf, c->cap);
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct control_client *c = stream->data;
    (void)buf;
    if (nread < 0) {
        client_close(c);
        return;
    }
    uv_timer_again(&c->idle);
    size_t start = c->len;
    c->len += (size_t)nread;
    size_t from = 0;
    for (size_t i = start; i < c->len; i++) {
        char *nl = memchr(c->buf + i, '\n', c->len - i);
        if (!nl)
            break;
        i = (size_t)(nl - c->buf);
        if (c->discarding)
            c->discarding = false;
        else
            handle_line(c, c->buf + from, i - from);
        from = i + 1;
        if (c->closing)
            return;
    }
    memmove(c->buf, c->buf + from, c->len - from);
    c->len -= from;
    if (c->len > PROTOCOL_LINE_MAX + 1) {
        if (!c->discarding) {
            char why[96];
            snprintf(why, sizeof why, "line longer than %d bytes", PROTOCOL_LINE_MAX);
            reply_error(c, why);
        }
        c->discarding = true;
        c->len = 0;
    }
    if (c->cap > 4 * 65536 && c->len < 32768) {
        c->cap = 65536;
        c->buf = realloc(c->buf, c->cap);
    }
    client_flush(c);
    if (too_full(c)) {
        c->paused = true;
        uv_read_stop(stream);
    }
}

static void on_idle(uv_timer_t *t)
{
    client_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct control_server *s = server->data;
    if (status < 0)
        return;
    struct control_client *c = calloc(1, sizeof *c);
    c->server = s;
    uv_pipe_init(s->loop, &c->pipe, 0);
    uv_timer_init(s->loop, &c->idle);
    c->pipe.data = c;
    c->idle.data = c;
    c->handles_open = 2;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->pipe, on_client_handle_closed);
        uv_close((uv_handle_t *)&c->idle, on_client_handle_closed);
        return;
    }
    c->next = s->clients;
    s->clients = c;
    s->n_clients++;
    if (s->n_clients > CONTROL_CLIENTS_MAX) {
        reply_error(c, "too many connections");
        client_flush(c);
        client_close(c);
        return;
    }
    uv_timer_start(&c->idle, on_idle, CONTROL_IDLE_MS, CONTROL_IDLE_MS);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
}

static void on_server_closed(uv_handle_t *h)
{
    struct control_server *s = h->data;
    free(s->path);
    free(s);
}

int control_listen(uv_loop_t *loop, const char *path, int mode, control_cmd_fn fn, void *ctx,
                   struct control_server **out, char *why, size_t why_len)
{
    *out = NULL;
    /* A socket file left by a crash is replaced; one with a listener means another daemon. */
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(why, why_len, "%s exists and is not a socket", path);
            return -EEXIST;
        }
        char tmp[64];
        char *probe = control_send(path, "{\"cmd\":\"status\"}", tmp, sizeof tmp);
        if (probe) {
            free(probe);
            snprintf(why, why_len, "another tandem is listening on %s", path);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    struct control_server *s = calloc(1, sizeof *s);
    s->loop = loop;
    s->fn = fn;
    s->ctx = ctx;
    s->path = strdup(path);
    uv_pipe_init(loop, &s->pipe, 0);
    s->pipe.data = s;
    /* Created owner-only from the start (a chmod after listen would leave a window: CVE-2023-45145),
     * then set to exactly the mode asked for, before anyone can connect. */
    mode_t old = umask(077);
    int rc = uv_pipe_bind(&s->pipe, path);
    umask(old);
    if (rc == 0 && chmod(path, (mode_t)mode) < 0)
        rc = -errno;
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->pipe, 128, on_connection);
    if (rc < 0) {
        snprintf(why, why_len, "cannot listen on %s: %s", path, uv_strerror(rc));
        uv_close((uv_handle_t *)&s->pipe, on_server_closed);   /* frees s when the loop runs */
        return rc;
    }
    *out = s;
    return 0;
}

void control_close(struct control_server *s)
{
    if (!s)
        return;
    while (s->clients)
        client_close(s->clients);
    unlink(s->path);
    uv_close((uv_handle_t *)&s->pipe, on_server_closed);
}

int control_clients(const struct control_server *s)
{
    return s ? s->n_clients : 0;
}
