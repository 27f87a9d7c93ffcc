/* Faults that end a Linux process, one per mode: the status a shell
 * reports is 128 + the signal Linux sends.
 *
 *   null 139, write-readonly 139, read-none 139, after-munmap 139,
 *   exec-data 139 (SIGSEGV); ud2 132 (SIGILL); int3 133 (SIGTRAP);
 *   abort 134 (SIGABRT); bus 135 (SIGBUS: a file mapping past the end of
 *   its file); div0 136 (SIGFPE); exit-7 7 (not a death: exit(7)). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "check.h"

#define PAGE 4096

static char *anon(int prot)
{
    return mmap(NULL, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    volatile int sink = 0;
    say("about to die\n");
    if (strcmp(mode, "null") == 0) {
        sink = *(volatile int *)0;
    } else if (strcmp(mode, "write-readonly") == 0) {
        volatile char *p = anon(PROT_READ);
        p[0] = 1;
    } else if (strcmp(mode, "read-none") == 0) {
        volatile char *p = anon(PROT_NONE);
        sink = p[0];
    } else if (strcmp(mode, "after-munmap") == 0) {
        volatile char *p = anon(PROT_READ | PROT_WRITE);
        p[0] = 1;
        munmap((void *)p, PAGE);
        sink = p[0];
    } else if (strcmp(mode, "exec-data") == 0) {
        unsigned char *p = (unsigned char *)anon(PROT_READ | PROT_WRITE);
        p[0] = 0xc3; /* ret */
        ((void (*)(void))p)();
    } else if (strcmp(mode, "ud2") == 0) {
        __builtin_trap();
    } else if (strcmp(mode, "int3") == 0) {
        __asm__ volatile("int3");
    } else if (strcmp(mode, "abort") == 0) {
        abort();
    } else if (strcmp(mode, "bus") == 0) {
        /* The program's own file, mapped from the page past its last. */
        int fd = open("/proc/self/exe", O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            say("cannot open /proc/self/exe\n");
            return 2;
        }
        off_t past = (st.st_size + PAGE - 1) / PAGE * PAGE;
        volatile char *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, past);
        if (p == MAP_FAILED) {
            say("mmap failed\n");
            return 2;
        }
        sink = p[0];
    } else if (strcmp(mode, "div0") == 0) {
        /* In assembly: C's division by zero is undefined, not a #DE. */
        __asm__ volatile("xor %%ecx, %%ecx\n\tdiv %%ecx" ::: "eax", "edx", "ecx");
    } else if (strcmp(mode, "exit-7") == 0) {
        exit(7);
    } else {
        say("usage: deaths MODE (see deaths.c)\n");
        return 2;
    }
    (void)sink;
    say("SURVIVED\n");
    return 1;
}
