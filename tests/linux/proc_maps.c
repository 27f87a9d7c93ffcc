/* /proc/self/maps read with open and read (no stdio on the file), parsed
 * and checked against the program's own addresses: its code, constants,
 * data, break, stack, vDSO and a mapping it makes, splits and removes.
 * Prints facts, no addresses. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "check.h"

#define PAGE 4096ul

struct line {
    uintptr_t start, end;
    char perms[5];
    unsigned long offset;
    unsigned long inode;
    char path[64];
};

static char text[256 * 1024];
static struct line lines[1024];
static int count;

/* Reads the whole file in `chunk`-byte reads; its length, or -1. */
static long read_maps(char *buf, size_t size, size_t chunk)
{
    int fd = open("/proc/self/maps", O_RDONLY);
    if (fd < 0)
        return -1;
    size_t len = 0;
    for (;;) {
        size_t want = size - 1 - len < chunk ? size - 1 - len : chunk;
        ssize_t n = read(fd, buf + len, want);
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = 0;
    return (long)len;
}

static uintptr_t hex(const char **s)
{
    uintptr_t v = 0;
    for (;; (*s)++) {
        char c = **s;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uintptr_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uintptr_t)(c - 'a' + 10);
        else
            return v;
    }
}

/* Parses `text` into `lines`; 0 when a line is malformed. */
static int parse(void)
{
    count = 0;
    const char *s = text;
    while (*s && count < (int)(sizeof lines / sizeof lines[0])) {
        struct line *l = &lines[count];
        memset(l, 0, sizeof *l);
        l->start = hex(&s);
        if (*s++ != '-')
            return 0;
        l->end = hex(&s);
        if (*s++ != ' ')
            return 0;
        memcpy(l->perms, s, 4);
        s += 4;
        if (*s++ != ' ')
            return 0;
        l->offset = hex(&s);
        if (*s++ != ' ')
            return 0;
        hex(&s); /* major */
        if (*s++ != ':')
            return 0;
        hex(&s); /* minor */
        if (*s++ != ' ')
            return 0;
        while (*s >= '0' && *s <= '9')
            l->inode = l->inode * 10 + (unsigned long)(*s++ - '0');
        while (*s == ' ')
            s++;
        size_t n = 0;
        while (*s && *s != '\n') {
            if (n + 1 < sizeof l->path)
                l->path[n++] = *s;
            s++;
        }
        if (*s++ != '\n')
            return 0;
        count++;
    }
    return 1;
}

static int refresh(void)
{
    return read_maps(text, sizeof text, sizeof text) > 0 && parse();
}

static const struct line *containing(uintptr_t addr)
{
    for (int i = 0; i < count; i++)
        if (lines[i].start <= addr && addr < lines[i].end)
            return &lines[i];
    return NULL;
}

static int has(uintptr_t addr, const char *perms, const char *path)
{
    const struct line *l = containing(addr);
    return l && strcmp(l->perms, perms) == 0 && (!path || strcmp(l->path, path) == 0);
}

static const char constant[] = "a constant in .rodata";
int initialized = 42;

int main(void)
{
    static char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof out);

    char *brk0 = (char *)syscall(SYS_brk, 0);
    syscall(SYS_brk, brk0 + 2 * PAGE);
    brk0[0] = 1;
    check(refresh(), "/proc/self/maps opens, reads and parses");
    check(count > 0 && text[strlen(text) - 1] == '\n', "every line ends with a newline");
    int sorted = 1;
    for (int i = 0; i < count; i++) {
        sorted &= lines[i].start < lines[i].end && lines[i].start % PAGE == 0 && lines[i].end % PAGE == 0;
        if (i > 0)
            sorted &= lines[i - 1].end <= lines[i].start;
    }
    check(sorted, "lines are page-aligned, ascending and disjoint");

    check(has((uintptr_t)main, "r-xp", NULL), "main is in an r-xp line");
    check(has((uintptr_t)constant, "r--p", NULL), "a constant is in an r--p line");
    check(has((uintptr_t)&initialized, "rw-p", NULL), "initialized data is in an rw-p line");
    check(has((uintptr_t)brk0, "rw-p", "[heap]"), "the break is in the [heap] line");
    check(containing((uintptr_t)brk0)->end == (uintptr_t)brk0 + 2 * PAGE, "[heap] ends at the break");
    char local;
    check(has((uintptr_t)&local, "rw-p", "[stack]"), "a local variable is in the [stack] line");
    check(has(getauxval(AT_SYSINFO_EHDR), "r-xp", "[vdso]"), "AT_SYSINFO_EHDR is in the [vdso] line");
    const struct line *code = containing((uintptr_t)main);
    check(code && code->inode != 0 && code->path[0] == '/', "the code line names the program's file");

    char *p = mmap(NULL, 3 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    refresh();
    const struct line *l = containing((uintptr_t)p);
    check(l && l->start == (uintptr_t)p && l->end == (uintptr_t)p + 3 * PAGE && strcmp(l->perms, "r--p") == 0 &&
              l->offset == 0 && l->inode == 0 && l->path[0] == 0,
          "a new anonymous mapping is one line with its exact bounds");

    mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE);
    refresh();
    const struct line *a = containing((uintptr_t)p), *b = containing((uintptr_t)p + PAGE),
                      *c = containing((uintptr_t)p + 2 * PAGE);
    check(a && b && c && a != b && b != c && a->end == (uintptr_t)p + PAGE && b->end == (uintptr_t)p + 2 * PAGE &&
              strcmp(a->perms, "r--p") == 0 && strcmp(b->perms, "rw-p") == 0 && strcmp(c->perms, "r--p") == 0,
          "mprotect of the middle page splits it into three lines");

    mprotect(p + PAGE, PAGE, PROT_READ);
    refresh();
    l = containing((uintptr_t)p);
    check(l && l->start == (uintptr_t)p && l->end == (uintptr_t)p + 3 * PAGE, "mprotect back merges them again");

    munmap(p, 3 * PAGE);
    refresh();
    int gone = 1;
    for (int i = 0; i < count; i++)
        gone &= lines[i].end <= (uintptr_t)p || lines[i].start >= (uintptr_t)p + 3 * PAGE;
    check(gone, "after munmap no line overlaps it");

    /* Small reads resume where the last one stopped. */
    static char whole[sizeof text], pieces[sizeof text];
    long n1 = read_maps(whole, sizeof whole, sizeof whole);
    long n2 = read_maps(pieces, sizeof pieces, 7);
    check(n1 > 0 && n1 == n2 && memcmp(whole, pieces, (size_t)n1) == 0, "7-byte reads give the same text as one read");
    return check_report("proc_maps");
}
