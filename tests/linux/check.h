/* The checks every differential test program shares. A program prints
 * facts, never addresses, so its output on Linux and in QEMU can be
 * compared byte for byte; each check prints "NAME: ok" or "NAME: FAIL ..."
 * and the program exits 1 when any failed. */
#ifndef CHECK_H
#define CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int check_failures __attribute__((unused));

/* Prints "what: ok", or "what: FAIL" with errno's name when it is set. */
static inline void check(int ok, const char *what)
{
    if (ok) {
        printf("%s: ok\n", what);
    } else {
        int e = errno;
        printf("%s: FAIL (errno %d %s)\n", what, e, e ? strerror(e) : "");
        check_failures++;
    }
}

/* The name of an errno the checks expect, so both sides print the same. */
static inline const char *errno_name(int e)
{
    switch (e) {
    case 0: return "0";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case EBADF: return "EBADF";
    case EFAULT: return "EFAULT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EROFS: return "EROFS";
    default: return "other";
    }
}

/* Checks that `call` fails with `expected`, printing what it got. */
#define check_errno(call, expected, what)                                                                        \
    do {                                                                                                           \
        errno = 0;                                                                                                 \
        long ret_ = (long)(call);                                                                                  \
        check_errno_result(ret_, expected, what);                                                                 \
    } while (0)

static inline void check_errno_result(long ret, int expected, const char *what)
{
    int e = errno;
    printf("%s: ", what);
    if (ret == -1 && e == expected) {
        printf("%s ok\n", errno_name(e));
    } else {
        printf("FAIL (returned %s, errno %s)\n", ret == -1 ? "-1" : "success", errno_name(e));
        check_failures++;
    }
}

/* Writes a line straight to fd 1, for programs about to die: stdio's
 * buffer would be lost with them. */
static inline void say(const char *line)
{
    size_t n = strlen(line);
    while (n > 0) {
        ssize_t w = write(1, line, n);
        if (w <= 0)
            return;
        line += w;
        n -= (size_t)w;
    }
}

/* Ends the program: the number of checks that failed, if any. */
static inline int check_report(const char *program)
{
    if (check_failures)
        printf("%s: %d FAILED\n", program, check_failures);
    else
        printf("%s: PASS\n", program);
    fflush(stdout);
    return check_failures ? 1 : 0;
}

#endif
