/* bench_client: one benchmark connection to a tandem control socket (or its echo peer), in C
 * so that one client is not limited by Python's own cost per command (about 40 µs a round
 * trip in the Python client, more than the daemon spends on a command).
 *
 *   bench_client SOCKET PREFIX WINDOW SECONDS
 *
 * Connects, prints "ready" on stdout and waits for a line on stdin; then for SECONDS sends
 *   {"cmd":"person.add","id":"PREFIX<i>","level":3,"department":"Eng"}
 * with i = 0, 1, 2, ... keeping up to WINDOW commands in flight (WINDOW 1: one at a time, send,
 * wait for the reply, send), then waits for every reply and prints one JSON line:
 *   {"prefix":..,"acked":N,"refused":N,"first_bad":..|null,"t0":S,"t_end":S,"cpu":S,
 *    "p50_ms":..,"p99_ms":..}
 * t0 and t_end are CLOCK_MONOTONIC seconds (Python's time.monotonic on Linux); cpu is this
 * process's CPU seconds during the run. A reply that starts {"ok":true is an acknowledgement,
 * any other a refusal. Exit 0, or 1 with a message on stderr (the connection failed or closed). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CMD_MAX 200                       /* one command's bytes, with a PREFIX up to 64 */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_client: %s: %s\n", what, errno ? strerror(errno) : "unexpected end");
    exit(1);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("send");
        p += k;
        n -= (size_t)k;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A JSON string of s (the first bad reply: printable ASCII kept, the rest as \u00xx). */
static void put_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 32 || c > 126)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_client SOCKET PREFIX WINDOW SECONDS\n");
        return 2;
    }
    const char *prefix = argv[2];
    long window = strtol(argv[3], NULL, 10);
    double seconds = strtod(argv[4], NULL);
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (window < 1 || strlen(prefix) > 64 || strlen(argv[1]) >= sizeof addr.sun_path) {
        fprintf(stderr, "bench_client: bad arguments\n");
        return 2;
    }
    strcpy(addr.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0)
        die("connect");
    printf("ready\n");
    fflush(stdout);
    char go[64];
    if (!fgets(go, sizeof go, stdin))
        die("waiting for the start");

    char *out = malloc((size_t)window * CMD_MAX);
    double *stamps = malloc((size_t)window * sizeof *stamps);   /* ring: send times in flight */
    size_t lat_cap = 1 << 16, n_lat = 0;
    double *lat = malloc(lat_cap * sizeof *lat);
    size_t in_cap = 1 << 20, in_len = 0;
    char *in = malloc(in_cap);
    if (!out || !stamps || !lat || !in)
        die("out of memory");
    char first_bad[301] = "";
    long long sent = 0, acked = 0, refused = 0;
    long head = 0;                        /* ring index of the oldest command in flight */
    double t0 = clock_s(CLOCK_MONOTONIC), cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    double deadline = t0 + seconds;
    for (;;) {
        double now = clock_s(CLOCK_MONOTONIC);
        long long flying = sent - acked - refused;
        if (now < deadline && flying < window) {
            size_t n = 0;
            for (long long k = flying; k < window; k++) {
                n += (size_t)snprintf(out + n, CMD_MAX,
                                      "{\"cmd\":\"person.add\",\"id\":\"%s%lld\",\"level\":3,\"department\":\"Eng\"}\n",
                                      prefix, sent);
                stamps[(head + (long)(sent - acked - refused)) % window] = now;
                sent++;
            }
            send_all(fd, out, n);
        } else if (flying == 0) {
            break;
        }
        ssize_t got = recv(fd, in + in_len, in_cap - in_len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            die("the server closed the connection");
        in_len += (size_t)got;
        double t = clock_s(CLOCK_MONOTONIC);
        size_t start = 0;
        for (char *nl; (nl = memchr(in + start, '\n', in_len - start)) != NULL;) {
            size_t len = (size_t)(nl - (in + start));
            if (sent - acked - refused == 0) {
                errno = 0;
                die("a reply to no command");
            }
            if (n_lat == lat_cap && !(lat = realloc(lat, (lat_cap *= 2) * sizeof *lat)))
                die("out of memory");
            lat[n_lat++] = t - stamps[head];
            head = (head + 1) % window;
            if (len >= 10 && memcmp(in + start, "{\"ok\":true", 10) == 0) {
                acked++;
            } else {
                if (!first_bad[0])
                    snprintf(first_bad, sizeof first_bad, "%.*s", (int)(len < 300 ? len : 300), in + start);
                refused++;
            }
            start += len + 1;
        }
        memmove(in, in + start, in_len - start);
        in_len -= start;
        if (in_len == in_cap && !(in = realloc(in, in_cap *= 2)))
            die("out of memory");
    }
    double t_end = clock_s(CLOCK_MONOTONIC), cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    close(fd);
    qsort(lat, n_lat, sizeof *lat, cmp_double);
    printf("{\"prefix\":");
    put_json_string(prefix);
    printf(",\"acked\":%lld,\"refused\":%lld,\"first_bad\":", acked, refused);
    if (first_bad[0])
        put_json_string(first_bad);
    else
        printf("null");
    printf(",\"t0\":%.6f,\"t_end\":%.6f,\"cpu\":%.6f", t0, t_end, cpu);
    if (n_lat)
        printf(",\"p50_ms\":%.4f,\"p99_ms\":%.4f}\n", 1000 * lat[n_lat / 2], 1000 * lat[(size_t)((double)n_lat * 0.99)]);
    else
        printf(",\"p50_ms\":null,\"p99_ms\":null}\n");
    free(out);
    free(stamps);
    free(lat);
    free(in);
    return 0;
}
