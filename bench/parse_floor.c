/* parse_floor: the peer of a full replay. Reads STATE/events.jsonl line by line and parses
 * every line with cJSON (the library the engine uses), freeing each tree, and nothing else:
 * no checksum, no state. What any replay of this log with cJSON must cost at least.
 *
 *   usage: parse_floor FILE [--json]
 *   build: make -C bench    (or: gcc -std=c11 -O2 -Wall -o bench/parse_floor bench/parse_floor.c
 *                                 $(pkg-config --cflags --libs libcjson))
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        fputs("usage: parse_floor FILE [--json]\nParses every line of FILE with cJSON and prints the rate.\n",
              argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    int json = argc > 2 && strcmp(argv[2], "--json") == 0;
    double t0 = now_s();
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 3;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long long lines = 0, bytes = 0, bad = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        bytes += n;
        lines++;
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        const char *end = NULL;
        cJSON *v = cJSON_ParseWithOpts(line, &end, 1);
        if (!v)
            bad++;
        cJSON_Delete(v);
    }
    fclose(f);
    free(line);
    double s = now_s() - t0;
    if (json)
        printf("{\"lines\":%lld,\"bytes\":%lld,\"bad\":%lld,\"seconds\":%.3f,\"lines_per_s\":%.0f}\n", lines, bytes,
               bad, s, (double)lines / s);
    else
        printf("%lld lines (%.1f MB, %lld unparsable) parsed in %.3f s: %.0f lines/s\n", lines, (double)bytes / 1e6,
               bad, s, (double)lines / s);
    return bad ? 1 : 0;
}
