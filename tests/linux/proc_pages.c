/* What /proc says about pages, Linux's rules: anonymous memory only read
 * maps the zero page (Rss 0, pagemap present, not exclusive) and one write
 * makes it 4 kB; a written page of a private file mapping is anonymous and
 * dirty (pagemap's file bit clear); shared anonymous memory is shmem; `ac`
 * survives mprotect to read-only. Prints facts, never addresses. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

#define PAGE 4096UL

/* Prints the smaps fields `keys` (and the VmFlags among the classic ones)
 * of the VMA starting at `addr`. */
static void smaps_of(void *addr, const char *const *keys)
{
    char want[32], line[512];
    snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) {
        check(0, "open smaps");
        return;
    }
    int in = 0;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        char *space = strchr(line, ' ');
        int header = space && (!colon || colon > space);
        if (header) {
            in = strncmp(line, want, strlen(want)) == 0;
            continue;
        }
        if (!in)
            continue;
        if (strncmp(line, "VmFlags:", 8) == 0) {
            static const char *const classic[] = {"rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "ac", 0};
            printf("  VmFlags:");
            for (const char *const *c = classic; *c; c++) {
                char word[8];
                snprintf(word, sizeof word, " %s ", *c);
                if (strstr(line + 8, word))
                    printf(" %s", *c);
            }
            printf("\n");
            continue;
        }
        for (const char *const *k = keys; *k; k++)
            if (strncmp(line, *k, strlen(*k)) == 0 && line[strlen(*k)] == ':')
                printf("  %s", line);
    }
    fclose(f);
}

/* The maps line of the VMA at `addr` without its addresses and inode:
 * perms, offset, device, whether the inode is 0, and the name. */
static void maps_of(void *addr)
{
    char want[32], line[512];
    snprintf(want, sizeof want, "%lx-", (unsigned long)addr);
    FILE *f = fopen("/proc/self/maps", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)) != 0)
            continue;
        char perms[8], dev[16], name[256] = "";
        unsigned long long offset, inode;
        sscanf(line, "%*s %7s %llx %15s %llu %255[^\n]", perms, &offset, dev, &inode, name);
        printf("  maps: %s %08llx %s inode %s %s\n", perms, offset, dev, inode ? "nonzero" : "0", name);
    }
    if (f)
        fclose(f);
}

/* pagemap's flag bits of the page at `addr`: present, swapped, file or
 * shared anonymous, exclusive (the frame number and soft-dirty left out:
 * they depend on privilege and the kernel's configuration). */
static void pagemap_of(const char *what, void *addr)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    uint64_t e = 0;
    if (fd < 0 || pread(fd, &e, 8, (uintptr_t)addr / PAGE * 8) != 8)
        check(0, "read pagemap");
    close(fd);
    printf("  pagemap %s: present %d file %d exclusive %d\n", what, (int)(e >> 63 & 1), (int)(e >> 61 & 1),
           (int)(e >> 56 & 1));
}

/* A mapping between two PROT_NONE pages, so it is a VMA of its own (never
 * merged with a neighbour). */
static void *isolated(unsigned long len, int prot, int flags)
{
    char *guard = mmap(0, len + 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard == MAP_FAILED)
        return MAP_FAILED;
    return mmap(guard + PAGE, len, prot, flags | MAP_FIXED, -1, 0);
}

static const char *const counts[] = {"Rss", "Private_Clean", "Private_Dirty", "Anonymous", 0};

int main(void)
{
    /* 1. The zero page: 1,000 pages only read. */
    enum { N = 1000 };
    volatile char *a = isolated(N * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    check(a != MAP_FAILED, "mmap anonymous");
    unsigned sum = 0;
    for (unsigned long i = 0; i < N; i++)
        sum += a[i * PAGE];
    check(sum == 0, "only zeros read");
    printf("read %d pages:\n", N);
    smaps_of((void *)a, counts);
    pagemap_of("read", (void *)a);
    a[5 * PAGE] = 1;
    printf("after one write:\n");
    smaps_of((void *)a, counts);
    pagemap_of("written", (void *)(a + 5 * PAGE));
    pagemap_of("read", (void *)a);
    check(a[5 * PAGE] == 1 && a[4 * PAGE] == 0 && a[6 * PAGE] == 0, "the write landed in its page alone");

    /* 2. `ac` after mprotect from read-write to read. */
    check(mprotect((void *)a, N * PAGE, PROT_READ) == 0, "mprotect to read");
    printf("after mprotect to read:\n");
    smaps_of((void *)a, counts);

    /* 3. A private file mapping: a written page is anonymous and dirty. */
    int fd = open("/proc/self/exe", O_RDONLY);
    check(fd >= 0, "open the program");
    volatile char *m = mmap(0, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    check(m != MAP_FAILED, "mmap the program privately");
    check(m[0] == 0x7f && m[1] == 'E', "the file's bytes");
    m[PAGE] ^= 1;
    printf("private file mapping, page 1 written:\n");
    static const char *const anon_only[] = {"Private_Dirty", "Anonymous", 0};
    smaps_of((void *)m, anon_only);
    pagemap_of("written", (void *)(m + PAGE));
    close(fd);

    /* 4. Shared anonymous memory is shmem. */
    volatile char *s = isolated(2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
    check(s != MAP_FAILED, "mmap shared anonymous");
    s[0] = 1;
    sum = s[PAGE];
    printf("shared anonymous, page 0 written, page 1 read:\n");
    maps_of((void *)s);
    smaps_of((void *)s, counts);
    pagemap_of("written", (void *)s);
    pagemap_of("read", (void *)(s + PAGE));
    volatile char *r = isolated(PAGE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS);
    check(r != MAP_FAILED, "mmap shared anonymous read-only");
    sum += r[0];
    printf("shared anonymous read-only, read:\n");
    maps_of((void *)r);
    smaps_of((void *)r, counts);

    printf("proc_pages: %s\n", check_failures ? "FAIL" : "PASS");
    return check_failures ? 1 : 0;
}
