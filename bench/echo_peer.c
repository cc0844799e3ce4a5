/* echo_peer: the clients' peer in daemon_bench.py. A Unix-socket server that answers every
 * line at once with a canned reply as long as the daemon's real one to a person.add, doing
 * nothing else, so a row against it shows what the clients and the socket manage with a
 * server that costs (almost) nothing.
 *
 *   echo_peer SOCKET       prints "ready" once listening; runs until SIGTERM
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char CANNED[] =
    "{\"ok\":true,\"events\":[{\"seq\":2,\"ts\":\"2026-01-01T00:00:00Z\",\"type\":\"person\",\"phase\":\"added\","
    "\"person\":{\"id\":\"c0-1\",\"department\":\"Eng\",\"level\":3,\"capacity\":1}},{\"seq\":3,"
    "\"ts\":\"2026-01-01T00:00:00Z\",\"type\":\"enroll\",\"person\":\"c0-1\",\"program\":\"core\",\"role\":\"mentee\"}]}\n";

struct conn {
    int fd;
    char *out;                            /* replies not yet sent */
    size_t off, len, cap;
};

static int add_replies(struct conn *c, size_t n)
{
    size_t need = (c->len - c->off) + n * (sizeof CANNED - 1);
    if (c->off > 0) {
        memmove(c->out, c->out + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (need > c->cap) {
        size_t cap = c->cap ? c->cap : 65536;
        while (cap < need)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return -1;
        c->out = p;
        c->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(c->out + c->len, CANNED, sizeof CANNED - 1);
        c->len += sizeof CANNED - 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (argc != 2 || strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "usage: echo_peer SOCKET\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    strcpy(addr.sun_path, argv[1]);
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(srv, 256) != 0) {
        perror("echo_peer: listen");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    struct pollfd *pf = NULL;
    struct conn *conns = NULL;
    int n = 0, cap = 0;
    static char in[1 << 20];
    for (;;) {
        if (n + 1 > cap) {
            cap = cap ? cap * 2 : 16;
            pf = realloc(pf, (size_t)cap * sizeof *pf);
            conns = realloc(conns, (size_t)cap * sizeof *conns);
            if (!pf || !conns)
                return 1;
        }
        pf[0] = (struct pollfd){ .fd = srv, .events = POLLIN };
        for (int i = 0; i < n; i++)
            pf[i + 1] = (struct pollfd){ .fd = conns[i].fd,
                                         .events = POLLIN | (conns[i].len > conns[i].off ? POLLOUT : 0) };
        if (poll(pf, (nfds_t)n + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (pf[0].revents & POLLIN) {
            int fd = accept4(srv, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd >= 0 && n < cap)
                conns[n++] = (struct conn){ .fd = fd };
            else if (fd >= 0)
                close(fd);
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = &conns[i];
            short ev = pf[i + 1].revents;
            int dead = 0;
            if (ev & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t got = read(c->fd, in, sizeof in);
                if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR))
                    dead = 1;
                else if (got > 0) {
                    size_t lines = 0;
                    for (ssize_t k = 0; k < got; k++)
                        lines += in[k] == '\n';
                    if (lines && add_replies(c, lines) < 0)
                        dead = 1;
                }
            }
            if (!dead && c->len > c->off) {
                ssize_t w = write(c->fd, c->out + c->off, c->len - c->off);
                if (w > 0)
                    c->off += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR)
                    dead = 1;
            }
            if (dead) {
                close(c->fd);
                free(c->out);
                conns[i] = conns[--n];
                pf[i + 1] = pf[n + 1];
                i--;
            }
        }
    }
}
