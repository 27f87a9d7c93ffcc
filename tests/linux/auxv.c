/* The auxiliary vector: what Linux's execve puts there for a static
 * program, checked against the program's own ELF header and symbols.
 * Prints facts, no addresses. */
#include <elf.h>
#include <sys/auxv.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"

extern const Elf64_Ehdr __ehdr_start;
extern char _start[];

/* The vector as the kernel wrote it (glibc's getauxval rewrites some
 * entries, AT_HWCAP among them). */
static unsigned long *auxv;

static int is_set(unsigned long type, unsigned long *value)
{
    for (unsigned long *a = auxv; a[0] != AT_NULL; a += 2)
        if (a[0] == type) {
            *value = a[1];
            return 1;
        }
    return 0;
}

/* An entry's value, 0 when it is absent. */
static unsigned long aux(unsigned long type)
{
    unsigned long v = 0;
    is_set(type, &v);
    return v;
}

int main(int argc, char **argv, char **envp)
{
    char **e = envp;
    while (*e)
        e++;
    auxv = (unsigned long *)(e + 1);
    unsigned long v = 0;

    static const struct {
        unsigned long type;
        const char *name;
    } required[] = {
        {AT_PHDR, "AT_PHDR"},     {AT_PHENT, "AT_PHENT"}, {AT_PHNUM, "AT_PHNUM"},   {AT_PAGESZ, "AT_PAGESZ"},
        {AT_BASE, "AT_BASE"},     {AT_FLAGS, "AT_FLAGS"}, {AT_ENTRY, "AT_ENTRY"},   {AT_UID, "AT_UID"},
        {AT_EUID, "AT_EUID"},     {AT_GID, "AT_GID"},     {AT_EGID, "AT_EGID"},     {AT_SECURE, "AT_SECURE"},
        {AT_RANDOM, "AT_RANDOM"}, {AT_HWCAP, "AT_HWCAP"}, {AT_CLKTCK, "AT_CLKTCK"}, {AT_PLATFORM, "AT_PLATFORM"},
        {AT_EXECFN, "AT_EXECFN"}, {AT_SYSINFO_EHDR, "AT_SYSINFO_EHDR"},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "auxv has %s", required[i].name);
        check(is_set(required[i].type, &v), what);
    }

    printf("AT_PAGESZ %lu\n", aux(AT_PAGESZ));
    check(aux(AT_PAGESZ) == (unsigned long)sysconf(_SC_PAGESIZE), "AT_PAGESZ is sysconf's page size");
    printf("AT_PHENT %lu\n", aux(AT_PHENT));
    check(aux(AT_PHNUM) == __ehdr_start.e_phnum, "AT_PHNUM is the ELF header's e_phnum");
    check(aux(AT_PHDR) == (unsigned long)&__ehdr_start + __ehdr_start.e_phoff,
          "AT_PHDR is the loaded program headers");
    check(aux(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY is _start");
    printf("AT_BASE %lu (no interpreter)\n", aux(AT_BASE));
    printf("AT_FLAGS %lu\n", aux(AT_FLAGS));
    printf("AT_SECURE %lu\n", aux(AT_SECURE));
    printf("AT_CLKTCK %lu\n", aux(AT_CLKTCK));
    check(aux(AT_UID) == getuid(), "AT_UID is getuid()");
    check(aux(AT_EUID) == geteuid(), "AT_EUID is geteuid()");
    check(aux(AT_GID) == getgid(), "AT_GID is getgid()");
    check(aux(AT_EGID) == getegid(), "AT_EGID is getegid()");
    check(aux(AT_HWCAP) & (1ul << 26), "AT_HWCAP has SSE2 (CPUID.1:EDX bit 26)");

    const char *platform = (const char *)aux(AT_PLATFORM);
    printf("AT_PLATFORM \"%s\"\n", platform ? platform : "(none)");

    const unsigned char *random = (const unsigned char *)aux(AT_RANDOM);
    int nonzero = 0;
    for (int i = 0; random && i < 16; i++)
        nonzero |= random[i];
    check(random && nonzero, "AT_RANDOM points to 16 bytes, not all zero");

    /* Linux's layout: pointer arrays, then the random bytes, then the
     * argument and environment strings, with the file name topmost. */
    const char *execfn = (const char *)aux(AT_EXECFN);
    check((uintptr_t)random > (uintptr_t)(auxv) && (uintptr_t)random < (uintptr_t)argv[0],
          "AT_RANDOM lies between the pointer arrays and the strings");
    int highest = 1;
    for (int i = 0; i < argc; i++)
        highest &= (uintptr_t)execfn > (uintptr_t)argv[i];
    for (char **p = envp; *p; p++)
        highest &= (uintptr_t)execfn > (uintptr_t)*p;
    check(execfn && highest, "AT_EXECFN lies above every argv and envp string");
    check(argc == 0 || argv[argc - 1] + strlen(argv[argc - 1]) + 1 == (envp[0] ? envp[0] : argv[argc - 1] + strlen(argv[argc - 1]) + 1),
          "the envp strings follow the argv strings");
    check(((uintptr_t)argv & 7) == 0, "argv is 8-byte aligned");

    const unsigned char *vdso = (const unsigned char *)aux(AT_SYSINFO_EHDR);
    check(vdso && memcmp(vdso, ELFMAG, SELFMAG) == 0, "AT_SYSINFO_EHDR points to an ELF header (the vDSO)");
    return check_report("auxv");
}
