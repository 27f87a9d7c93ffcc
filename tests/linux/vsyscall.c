/* The legacy vsyscall page at 0xffffffffff600000, called as old static
 * binaries call it: gettimeofday at +0x0, time at +0x400, getcpu at +0x800.
 * `call` makes the three calls and checks their answers against the
 * clocks; `read` reads the page's first bytes (emulate mode; xonly kills);
 * `misaligned` calls +0x10 (always kills). Prints facts, no times. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include "check.h"

#define VSYSCALL 0xffffffffff600000ul

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *what = argc > 1 ? argv[1] : "call";
    if (strcmp(what, "read") == 0) {
        const volatile unsigned char *page = (const volatile unsigned char *)VSYSCALL;
        printf("about to read the vsyscall page\n");
        printf("its first bytes: %02x %02x %02x %02x\n", page[0], page[1], page[2], page[3]);
        return 0;
    }
    if (strcmp(what, "misaligned") == 0) {
        void (*f)(void) = (void (*)(void))(VSYSCALL + 0x10);
        printf("about to call into the middle of the vsyscall page\n");
        f();
        printf("SURVIVED\n");
        return 1;
    }
    int (*vgettimeofday)(struct timeval *, void *) = (int (*)(struct timeval *, void *))(VSYSCALL + 0x000);
    time_t (*vtime)(time_t *) = (time_t (*)(time_t *))(VSYSCALL + 0x400);
    long (*vgetcpu)(unsigned *, unsigned *, void *) = (long (*)(unsigned *, unsigned *, void *))(VSYSCALL + 0x800);
    printf("about to call the vsyscall page\n");

    struct timespec before, after;
    clock_gettime(CLOCK_REALTIME, &before);
    struct timeval tv = {0, 0};
    struct timezone tz = {99, 99};
    int r = vgettimeofday(&tv, &tz);
    clock_gettime(CLOCK_REALTIME, &after);
    check(r == 0, "vsyscall gettimeofday returns 0");
    check(tv.tv_sec >= before.tv_sec && tv.tv_sec <= after.tv_sec && tv.tv_usec >= 0 && tv.tv_usec < 1000000,
          "vsyscall gettimeofday gives the wall time");
    check(vgettimeofday(&tv, NULL) == 0, "vsyscall gettimeofday without a timezone");

    time_t t = 0;
    time_t got = vtime(&t);
    check(got == t && got >= before.tv_sec - 1 && got <= after.tv_sec + 1, "vsyscall time gives and stores the time");
    check(vtime(NULL) >= got, "vsyscall time without a pointer");

    unsigned cpu = 99, node = 99;
    check(vgetcpu(&cpu, &node, NULL) == 0, "vsyscall getcpu returns 0");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    check(cpu < (unsigned)(cpus > 0 ? cpus : 1) && (cpus > 1 || cpu == 0) && node == 0,
          "vsyscall getcpu names an online CPU and node 0");
    /* The callee-saved registers and the stack survive (the emulation
     * pops the return address as the real code's `ret` would). */
    volatile long canary = 0x5a5a5a5a;
    for (int i = 0; i < 100; i++)
        vtime(NULL);
    check(canary == 0x5a5a5a5a, "a hundred calls keep the stack intact");
    return check_report("vsyscall");
}
