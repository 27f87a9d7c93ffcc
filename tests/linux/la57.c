/* Addresses above 47 bits, as Linux gives them on 5-level paging (LA57).
 *
 *   la57 wide     the kernel runs 5 levels: a hint at 2^56 - 2^30 is
 *                 honoured, MAP_FIXED above 2^47 works, both hold data and
 *                 show in /proc/self/maps and pagemap;
 *   la57 narrow   4 levels (or la57=off): the hint lands below 2^47 and
 *                 MAP_FIXED above it is ENOMEM;
 *   ... gp        then reads a 57-bit non-canonical address: a
 *                 general-protection fault, SIGSEGV (status 139).
 *
 * Either way mmap without a hint, or with one below 2^47, places below
 * 2^47, and the stack and the program stay there. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "check.h"

#define PAGE 4096UL
#define TOP47 (1UL << 47)
#define HINT ((1UL << 56) - (1UL << 30))
#define FIXED ((1UL << 47) + (1UL << 40))
/* Bit 56 set, 63..57 clear: not canonical with 5 levels (nor with 4). */
#define NON_CANONICAL ((1UL << 56) + 0x1000)

static char *map(uintptr_t addr, size_t len, int flags)
{
    return mmap((void *)addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
}

/* Whether a line of /proc/self/maps covers [addr, addr + len). */
static int in_maps(uintptr_t addr, size_t len)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) == 2 && start <= addr && addr + len <= end)
            found = 1;
    }
    fclose(f);
    return found;
}

/* Whether pagemap says the page at addr is present (bit 63). */
static int present(uintptr_t addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0)
        return 0;
    uint64_t entry = 0;
    ssize_t n = pread(fd, &entry, sizeof entry, (off_t)(addr / PAGE * 8));
    close(fd);
    return n == (ssize_t)sizeof entry && (entry >> 63) == 1;
}

/* Writes two words of [p, p + len) and reads them back. */
static int holds_data(char *p, size_t len)
{
    volatile uint64_t *a = (volatile uint64_t *)p, *b = (volatile uint64_t *)(p + len - 8);
    *a = 0x1a57;
    *b = 0x2a57;
    return *a == 0x1a57 && *b == 0x2a57;
}

int main(int argc, char **argv)
{
    int wide = argc > 1 && strcmp(argv[1], "wide") == 0;
    int gp = argc > 2 && strcmp(argv[2], "gp") == 0;
    int local = 0;

    char *hinted = map(HINT, 2 * PAGE, 0);
    check(hinted != MAP_FAILED, "mmap with a hint at 2^56 - 2^30");
    if (hinted != MAP_FAILED) {
        if (wide)
            check((uintptr_t)hinted == HINT, "the hint above 2^47 is honoured");
        else
            check((uintptr_t)hinted + 2 * PAGE <= TOP47, "the hint lands below 2^47");
        check(holds_data(hinted, 2 * PAGE), "the hinted mapping holds its data");
        check(in_maps((uintptr_t)hinted, 2 * PAGE), "the hinted mapping is in /proc/self/maps");
        check(present((uintptr_t)hinted), "pagemap shows the hinted page present");
    }

    errno = 0;
    char *fixed = map(FIXED, PAGE, MAP_FIXED);
    if (wide) {
        check(fixed == (char *)FIXED, "MAP_FIXED above 2^47 maps there");
        if (fixed != MAP_FAILED) {
            check(holds_data(fixed, PAGE), "the fixed mapping holds its data");
            check(in_maps(FIXED, PAGE), "the fixed mapping is in /proc/self/maps");
            check(present(FIXED), "pagemap shows the fixed page present");
            check(munmap(fixed, PAGE) == 0 && !in_maps(FIXED, PAGE), "munmap above 2^47");
        }
    } else {
        printf("MAP_FIXED above 2^47: %s\n", fixed == MAP_FAILED ? errno_name(errno) : "mapped");
    }

    char *plain = map(0, PAGE, 0);
    check(plain != MAP_FAILED && (uintptr_t)plain < TOP47, "mmap without a hint places below 2^47");
    char *low = map(TOP47 - (1UL << 32), PAGE, 0);
    check(low != MAP_FAILED && (uintptr_t)low < TOP47, "mmap with a hint below 2^47 places below 2^47");
    check((uintptr_t)&local < TOP47, "the stack is below 2^47");
    check((uintptr_t)&main < TOP47, "the program is below 2^47");
    /* The hint range crossing 2^47 is not a request for high memory. */
    char *crossing = map(TOP47 - PAGE, 2 * PAGE, 0);
    check(crossing != MAP_FAILED && (uintptr_t)crossing + 2 * PAGE <= TOP47,
          "a hint range crossing 2^47 places below it");

    if (gp) {
        fflush(stdout);
        say("about to die\n");
        volatile char sink = *(volatile char *)NON_CANONICAL;
        printf("SURVIVED (%d)\n", sink);
    }
    return check_failures ? 1 : 0;
}
