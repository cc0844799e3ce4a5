/* fsync_rate: the disk's own fdatasync rate, the peer of `tandem run --fsync always`.
 *
 * Appends a line of BYTES bytes (default 200, about one small event) to a new file in DIR
 * and fdatasyncs it, COUNT times (or until SECONDS have passed, whichever comes first),
 * then prints the rate. This is what one command costs the daemon at best with
 * --fsync always: one write(2) and one fdatasync(2) of a growing file.
 *
 *   usage: fsync_rate DIR [-n COUNT] [-t SECONDS] [-b BYTES] [--json]
 *   build: make -C bench    (or: gcc -std=c11 -O2 -Wall -o bench/fsync_rate bench/fsync_rate.c)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void usage(FILE *out)
{
    fputs("usage: fsync_rate DIR [-n COUNT] [-t SECONDS] [-b BYTES] [--json]\n"
          "Appends a BYTES-byte line (default 200) to a new file in DIR and fdatasyncs it,\n"
          "COUNT times (default 20000) or for SECONDS (default 5), whichever ends first;\n"
          "prints fdatasyncs per second and the latency percentiles. The file is removed.\n",
          out);
}

int main(int argc, char **argv)
{
    long count = 20000, bytes = 200;
    double seconds = 5.0;
    int json = 0;
    static const struct option opts[] = {
        { "count", required_argument, 0, 'n' }, { "seconds", required_argument, 0, 't' },
        { "bytes", required_argument, 0, 'b' }, { "json", no_argument, 0, 'j' },
        { "help", no_argument, 0, 'h' },        { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "n:t:b:jh", opts, NULL)) != -1) {
        switch (ch) {
        case 'n': count = strtol(optarg, NULL, 10); break;
        case 't': seconds = strtod(optarg, NULL); break;
        case 'b': bytes = strtol(optarg, NULL, 10); break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || count < 1 || bytes < 2 || bytes > 1 << 20 || !(seconds > 0)) {
        usage(stderr);
        return 2;
    }
    const char *dir = argv[optind];
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync_rate.%ld.tmp", dir, (long)getpid());
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "fsync_rate: cannot create %s: %s\n", path, strerror(errno));
        return 3;
    }
    char *line = malloc((size_t)bytes);
    memset(line, 'x', (size_t)bytes - 1);
    line[bytes - 1] = '\n';
    double *lat = malloc((size_t)count * sizeof *lat);
    long done = 0;
    double t0 = now_s(), end = t0 + seconds, t = t0;
    int rc = 0;
    while (done < count && t < end) {
        if (write(fd, line, (size_t)bytes) != bytes) {
            fprintf(stderr, "fsync_rate: write: %s\n", strerror(errno));
            rc = 3;
            break;
        }
        if (fdatasync(fd) != 0) {
            fprintf(stderr, "fsync_rate: fdatasync: %s\n", strerror(errno));
            rc = 3;
            break;
        }
        double t1 = now_s();
        lat[done++] = t1 - t;
        t = t1;
    }
    double elapsed = t - t0;
    close(fd);
    unlink(path);
    if (done == 0) {
        free(line);
        free(lat);
        return rc ? rc : 3;
    }
    qsort(lat, (size_t)done, sizeof *lat, cmp_double);
    double rate = (double)done / elapsed;
    double p50 = lat[done / 2] * 1e6, p99 = lat[(long)((double)done * 0.99)] * 1e6, max = lat[done - 1] * 1e6;
    if (json)
        printf("{\"dir\":\"%s\",\"count\":%ld,\"bytes\":%ld,\"seconds\":%.3f,\"per_s\":%.1f,"
               "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
               dir, done, bytes, elapsed, rate, p50, p99, max);
    else
        printf("%ld x (write %ld B + fdatasync) in %.3f s: %.0f/s  (p50 %.0f us, p99 %.0f us, max %.0f us)\n",
               done, bytes, elapsed, rate, p50, p99, max);
    free(line);
    free(lat);
    return rc;
}
