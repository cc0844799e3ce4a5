/* Helpers shared by the libFuzzer harnesses: a private scratch directory (on /dev/shm when
 * there is one, so fsync costs nothing), whole-file writes, and re-sealing lines so the fuzzer
 * gets past the CRC-32C and into the checks behind it. Test code only. */
#ifndef TANDEM_FUZZ_UTIL_H
#define TANDEM_FUZZ_UTIL_H

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc32c.h"

/* A directory made once per process and emptied between inputs. */
static inline const char *fuzz_dir(void)
{
    static char dir[256];
    if (!dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        snprintf(dir, sizeof dir, "%s/tandem-fuzz-XXXXXX", base);
        if (!mkdtemp(dir))
            abort();
    }
    return dir;
}

static inline void fuzz_clean(void)
{
    const char *dir = fuzz_dir();
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static inline void fuzz_write(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            abort();
        p += n;
        len -= (size_t)n;
    }
    close(fd);
}

/* Rewrites, in place, the 8 hex digits of every line's ,"crc":"xxxxxxxx"} seal so it
 * matches the bytes before it: the fuzzer cannot compute a CRC, the writer always does. */
static inline void fuzz_reseal(char *buf, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && buf[i] != '\n')
            continue;
        size_t n = i - start;
        char *line = buf + start;
        if (n >= CRC32C_SEAL_LEN && memcmp(line + n - CRC32C_SEAL_LEN, CRC32C_SEAL_TAG, 8) == 0 &&
            memcmp(line + n - 2, "\"}", 2) == 0) {
            char hex[9];
            snprintf(hex, sizeof hex, "%08" PRIx32, crc32c(0, line, n - CRC32C_SEAL_LEN));
            memcpy(line + n - 10, hex, 8);
        }
        start = i + 1;
    }
}

#endif
