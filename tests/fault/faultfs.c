/* faultfs: an LD_PRELOAD shim that makes file writes fail on demand, so the end-to-end
 * tests can give a running daemon a full or failing disk (tests/e2e/test_faults.py).
 * Test code only: never linked into tandem.
 *
 *   FAULTFS_MATCH=STR   only files opened with a path containing STR are watched (required)
 *   FAULTFS_CTL=FILE    read before every watched write/sync/rename; its first line is
 *                       "MODE [PATTERN]": the fault applies to watched files whose path
 *                       contains PATTERN (any watched file when absent). A missing or empty
 *                       file, or MODE "off", means no fault. Modes:
 *     enospc   write, pwrite, writev fail with ENOSPC, writing nothing
 *     eio      the same with EIO
 *     short    a write puts half its bytes on disk and returns that count; the next write
 *              to that file fails with ENOSPC (a disk that fills mid-line)
 *     fsync    fsync and fdatasync fail with EIO (nothing synced)
 *     rename   rename fails with EIO
 *     stall    fsync and fdatasync wait (they do not fail) for as long as the mode is stall
 * Each injected fault is told on stderr as "faultfs: OP PATH: ERROR". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_FD 4096

static char *paths[MAX_FD];           /* watched fds: the path they were opened with */
static unsigned char shorted[MAX_FD]; /* a short write happened: the next one fails */

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

static bool watched_path(const char *path)
{
    const char *m = getenv("FAULTFS_MATCH");
    return path && m && *m && strstr(path, m);
}

static void watch(int fd, const char *path)
{
    if (fd >= 0 && fd < MAX_FD) {
        free(paths[fd]);
        paths[fd] = watched_path(path) ? strdup(path) : NULL;
        shorted[fd] = 0;
    }
}

/* The mode for this path now: 0 none, else the first letter of the mode. */
static int mode_for(const char *path)
{
    const char *ctl = getenv("FAULTFS_CTL");
    if (!path || !ctl)
        return 0;
    int fd = (int)syscall(SYS_openat, AT_FDCWD, ctl, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[256];
    ssize_t n = syscall(SYS_read, fd, buf, sizeof buf - 1);
    syscall(SYS_close, fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char mode[32] = "", pattern[200] = "";
    if (sscanf(buf, "%31s %199s", mode, pattern) < 1 || strcmp(mode, "off") == 0)
        return 0;
    if (pattern[0] && !strstr(path, pattern))
        return 0;
    if (strcmp(mode, "enospc") == 0 || strcmp(mode, "eio") == 0 || strcmp(mode, "short") == 0 ||
        strcmp(mode, "fsync") == 0 || strcmp(mode, "rename") == 0)
        return mode[0] == 'e' ? (mode[1] == 'n' ? 'n' : 'e') : mode[0];
    if (strcmp(mode, "stall") == 0)
        return 'h';
    return 0;
}

static void tell(const char *op, const char *path, int e)
{
    char msg[600];
    int n = snprintf(msg, sizeof msg, "faultfs: %s %s: %s\n", op, path, strerror(e));
    if (n > 0)
        syscall(SYS_write, 2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
}

static const char *fd_path(int fd)
{
    return fd >= 0 && fd < MAX_FD ? paths[fd] : NULL;
}

/* Decides a write of len bytes on fd: -1 with errno to fail, else how many bytes to pass on. */
static ssize_t write_fault(int fd, size_t len, const char *op)
{
    const char *path = fd_path(fd);
    int m = path ? mode_for(path) : 0;
    int e = 0;
    if (m == 'n')
        e = ENOSPC;
    else if (m == 'e')
        e = EIO;
    else if (m == 's') {
        if (shorted[fd] || len < 2) {
            shorted[fd] = 0;
            e = ENOSPC;
        } else {
            shorted[fd] = 1;
            tell(op, path, 0);
            return (ssize_t)(len / 2);
        }
    }
    if (e) {
        tell(op, path, e);
        errno = e;
        return -1;
    }
    return (ssize_t)len;
}

/* The open family's optional third argument: read only when the flags say one was passed. */
#define OPEN_MODE(flags, mode)                          \
    do {                                                \
        (mode) = 0;                                     \
        if ((flags) & (O_CREAT | O_TMPFILE)) {          \
            va_list ap_;                                \
            va_start(ap_, flags);                       \
            (mode) = va_arg(ap_, mode_t);               \
            va_end(ap_);                                \
        }                                               \
    } while (0)

int open(const char *path, int flags, ...)
{
    mode_t mode;
    OPEN_MODE(flags, mode);
    int fd = REAL(open)(path, flags, mode);
    watch(fd, path);
    return fd;
}

int open64(const char *path, int flags, ...)
{
    mode_t mode;
    OPEN_MODE(flags, mode);
    int fd = REAL(open64)(path, flags, mode);
    watch(fd, path);
    return fd;
}

int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode;
    OPEN_MODE(flags, mode);
    int fd = REAL(openat)(dirfd, path, flags, mode);
    watch(fd, path);
    return fd;
}

int close(int fd)
{
    if (fd >= 0 && fd < MAX_FD) {
        free(paths[fd]);
        paths[fd] = NULL;
    }
    return REAL(close)(fd);
}

ssize_t write(int fd, const void *buf, size_t len)
{
    ssize_t n = fd_path(fd) ? write_fault(fd, len, "write") : (ssize_t)len;
    if (n < 0)
        return -1;
    return REAL(write)(fd, buf, (size_t)n);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    ssize_t n = fd_path(fd) ? write_fault(fd, len, "pwrite") : (ssize_t)len;
    if (n < 0)
        return -1;
    return REAL(pwrite)(fd, buf, (size_t)n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    if (fd_path(fd)) {
        size_t len = 0;
        for (int i = 0; i < cnt; i++)
            len += iov[i].iov_len;
        ssize_t n = write_fault(fd, len, "writev");
        if (n < 0)
            return -1;
        if ((size_t)n < len && cnt > 0)
            return REAL(write)(fd, iov[0].iov_base, (size_t)n < iov[0].iov_len ? (size_t)n : iov[0].iov_len);
    }
    return REAL(writev)(fd, iov, cnt);
}

static int sync_fault(int fd, const char *op)
{
    const char *path = fd_path(fd);
    if (path && mode_for(path) == 'h') {
        char msg[600];
        int n = snprintf(msg, sizeof msg, "faultfs: stall %s %s\n", op, path);
        if (n > 0)
            syscall(SYS_write, 2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        struct timespec ten_ms = { 0, 10 * 1000 * 1000 };
        while (mode_for(path) == 'h')
            nanosleep(&ten_ms, NULL);
    }
    if (path && mode_for(path) == 'f') {
        tell(op, path, EIO);
        errno = EIO;
        return -1;
    }
    return 0;
}

int fsync(int fd)
{
    return sync_fault(fd, "fsync") ? -1 : REAL(fsync)(fd);
}

int fdatasync(int fd)
{
    return sync_fault(fd, "fdatasync") ? -1 : REAL(fdatasync)(fd);
}

int rename(const char *from, const char *to)
{
    if (watched_path(to) && mode_for(to) == 'r') {
        tell("rename", to, EIO);
        errno = EIO;
        return -1;
    }
    return REAL(rename)(from, to);
}
