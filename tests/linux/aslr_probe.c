/* Prints where ASLR put this process's parts, for tests/tests/aslr.rs:
 * "layout base=B stack=S mmap=M heap=H" (hex), where B is the program's
 * own code (its load base for static-PIE), S a local variable's page, M a
 * fresh anonymous mapping and H the initial break. Addresses, on purpose:
 * the test compares runs, not the host. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int main(void)
{
    char local;
    void *map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("layout base=%lx stack=%lx mmap=%lx heap=%lx\n", (unsigned long)(uintptr_t)main & ~0xffful,
           (unsigned long)(uintptr_t)&local & ~0xffful, (unsigned long)(uintptr_t)map,
           (unsigned long)(uintptr_t)sbrk(0));
    return 0;
}
