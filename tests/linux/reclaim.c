/* Memory pressure: read far more fresh anonymous memory than a small pool
 * holds (the pager must reclaim clean pages to go on), then check that
 * nothing that was written was lost: pages the program wrote, a page the
 * kernel wrote for read(2), and a private file mapping read before. Linux
 * has memory to spare and prints the same lines; in QEMU the test boots
 * with `pool_pages=` and a policy that takes a frame for every page read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "check.h"

#define PAGE 4096ul
#define WRITTEN 64
#define PRESSURE (8192ul * PAGE)
#define FILE_PAGES 4

static uint64_t sum(const unsigned char *p, unsigned long len)
{
    uint64_t s = 0;
    for (unsigned long i = 0; i < len; i++)
        s = s * 31 + p[i];
    return s;
}

int main(void)
{
    int fd = open("/proc/self/exe", O_RDONLY);
    check(fd >= 0, "open /proc/self/exe");
    struct stat st;
    check(fstat(fd, &st) == 0 && st.st_size >= (off_t)(FILE_PAGES * PAGE), "the program has 4 pages");

    /* A private file mapping, read now. */
    unsigned char *file = mmap(0, FILE_PAGES * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    check(file != MAP_FAILED, "mmap the program");
    uint64_t file_sum = sum(file, FILE_PAGES * PAGE);

    /* Pages the program writes. */
    unsigned char *w = mmap(0, WRITTEN * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(w != MAP_FAILED, "mmap the written pages");
    for (unsigned long i = 0; i < WRITTEN; i++)
        w[i * PAGE + (i % PAGE)] = (unsigned char)(i * 7 + 1);

    /* A page read first (so it faults in clean), then written by the
     * kernel: read(2)'s copy is the only write it gets. */
    unsigned char *k = mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(k != MAP_FAILED, "mmap the kernel's page");
    check(*(volatile unsigned char *)k == 0, "a fresh page reads zero");
    check(pread(fd, k, PAGE, 0) == (ssize_t)PAGE, "read(2) into it");
    uint64_t k_sum = sum(k, PAGE);

    /* The pressure: 32 MiB of fresh memory, read page by page. */
    unsigned char *p = mmap(0, PRESSURE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED, "mmap 32 MiB");
    unsigned long nonzero = 0;
    for (unsigned long off = 0; off < PRESSURE; off += PAGE)
        nonzero += ((volatile unsigned char *)p)[off] != 0;
    check(nonzero == 0, "32 MiB read as zeros");
    /* And again: pages dropped under pressure come back as zeros. */
    for (unsigned long off = 0; off < PRESSURE; off += PAGE)
        nonzero += ((volatile unsigned char *)p)[off] != 0;
    check(nonzero == 0, "read again, still zeros");

    int intact = 1;
    for (unsigned long i = 0; i < WRITTEN; i++)
        intact &= w[i * PAGE + (i % PAGE)] == (unsigned char)(i * 7 + 1);
    check(intact, "written pages kept");
    unsigned char again[PAGE];
    check(pread(fd, again, PAGE, 0) == (ssize_t)PAGE && sum(again, PAGE) == k_sum && sum(k, PAGE) == k_sum,
          "the kernel's write kept");
    check(sum(file, FILE_PAGES * PAGE) == file_sum, "file pages read back the same");
    printf("reclaim: %s\n", check_failures ? "FAIL" : "PASS");
    return check_failures != 0;
}
