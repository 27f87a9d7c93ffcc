/* The main thread's stack: it grows on demand up to RLIMIT_STACK, a
 * program that goes past the limit dies of SIGSEGV (status 139), and it
 * never grows within the guard gap (stack_guard_gap, 256 pages: 1 MiB) of
 * the mapping below it.
 *
 *   stack grow    RLIMIT_STACK 4 MiB, grow 3 MiB: exits 0
 *   stack limit   RLIMIT_STACK 1 MiB + 64 KiB, grow until it dies: the
 *                 last checkpoint printed is 1024 KiB
 *   stack gap     a page mapped 2 MiB + 64 KiB below the stack pointer,
 *                 grow until it dies: the last checkpoint is 1024 KiB,
 *                 the gap is kept although the limit is far
 *
 * Checkpoints are printed with write(2) every 128 KiB of growth, so what
 * was printed survives the death. */
#include <alloca.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "check.h"

#define KIB 1024ul
#define STEP (4 * KIB)
#define CHECKPOINT (128 * KIB)

static void set_stack_limit(rlim_t soft)
{
    struct rlimit r;
    getrlimit(RLIMIT_STACK, &r);
    r.rlim_cur = soft;
    if (setrlimit(RLIMIT_STACK, &r) != 0) {
        say("setrlimit RLIMIT_STACK failed\n");
        exit(2);
    }
}

/* Grows the stack a page at a time, touching each page, until `limit`
 * bytes below `top` (or forever when `limit` is 0). */
static void __attribute__((noinline)) grow(uintptr_t top, uintptr_t limit)
{
    uintptr_t next = CHECKPOINT;
    for (;;) {
        volatile char *p = alloca(STEP);
        p[0] = 1;
        uintptr_t depth = top - (uintptr_t)p;
        if (depth >= next) {
            char line[64];
            snprintf(line, sizeof line, "grew %lu KiB\n", (unsigned long)(next / KIB));
            say(line);
            next += CHECKPOINT;
        }
        if (limit && depth >= limit)
            return;
    }
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    char here;
    uintptr_t top = (uintptr_t)&here;
    if (strcmp(mode, "grow") == 0) {
        set_stack_limit(4096 * KIB);
        grow(top, 3072 * KIB);
        say("grew 3 MiB under RLIMIT_STACK=4MiB: ok\n");
        return 0;
    }
    if (strcmp(mode, "limit") == 0) {
        set_stack_limit(1088 * KIB);
        grow(top, 0);
    } else if (strcmp(mode, "gap") == 0) {
        set_stack_limit(64 * 1024 * KIB);
        uintptr_t below = ((top & ~(STEP - 1)) - 2048 * KIB - 64 * KIB);
        void *p = mmap((void *)below, STEP, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        if (p != (void *)below) {
            say("cannot map the page below the stack\n");
            return 2;
        }
        say("mapped a page 2 MiB + 64 KiB below the stack pointer\n");
        grow(top, 0);
    } else {
        say("usage: stack grow|limit|gap\n");
        return 2;
    }
    say("SURVIVED: the stack grew without bound\n");
    return 1;
}
