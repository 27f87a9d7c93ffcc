/* The personality's non-memory calls, on Linux and here: files of the
 * root filesystem through /proc/self/exe (open, read, pread, lseek, fstat,
 * mmap of the file, dup, fcntl, close), names (readlink, uname, prctl),
 * clocks and sleeps, signal dispositions, futexes of one thread, random
 * bytes, and the errors of each. Prints facts, no addresses or sizes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>

#include "check.h"

#define PAGE 4096
/* <linux/futex.h> is not on musl's include path. */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

/* An address nothing maps, hidden from the compiler's bounds checks. */
static char *volatile nowhere = (char *)8;

static long long ns(const struct timespec *t)
{
    return (long long)t->tv_sec * 1000000000ll + t->tv_nsec;
}

static void files(void)
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    check(fd >= 3, "open /proc/self/exe");
    struct stat st;
    check(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > PAGE, "fstat: a regular file");
    struct stat by_name;
    check(stat("/proc/self/exe", &by_name) == 0 && by_name.st_size == st.st_size && by_name.st_ino == st.st_ino,
          "stat by name agrees with fstat");
    char magic[4];
    check(read(fd, magic, 4) == 4 && memcmp(magic, "\177ELF", 4) == 0, "read: the ELF magic");
    check(lseek(fd, 0, SEEK_CUR) == 4, "the offset moved by 4");
    char cls;
    check(pread(fd, &cls, 1, 4) == 1 && cls == 2 && lseek(fd, 0, SEEK_CUR) == 4, "pread: class 64, offset kept");
    check(lseek(fd, 0, SEEK_END) == st.st_size, "SEEK_END is the size");
    check(read(fd, magic, 4) == 0, "read at the end: 0");
    check(lseek(fd, -2, SEEK_END) == st.st_size - 2 && read(fd, magic, 4) == 2, "a read across the end is short");
    check_errno(lseek(fd, -1, SEEK_SET), EINVAL, "lseek before the start");
    check_errno(pread(fd, magic, 1, -1), EINVAL, "pread at a negative offset");
    check_errno(write(fd, "x", 1), EBADF, "write to a read-only file");
    check(lseek(fd, 0, SEEK_SET) == 0, "back to the start");
    check_errno(read(fd, nowhere, 1), EFAULT, "read into a bad buffer");

    /* The file mapped: the same bytes as read. */
    char *map = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    check(map != MAP_FAILED, "mmap of the file");
    static char buf[2 * PAGE];
    check(pread(fd, buf, sizeof buf, 0) == (ssize_t)sizeof buf && memcmp(map, buf, sizeof buf) == 0,
          "the mapping shows the file's bytes");
    char *cow = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    check(cow != MAP_FAILED, "a private writable mapping of a read-only file");
    cow[0] = 'X';
    check(pread(fd, magic, 1, 0) == 1 && magic[0] == 0x7f && map[0] == 0x7f, "writing it changes no file");
    check_errno(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0, EACCES,
                "a shared writable mapping of a read-only file");
    check_errno(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 99, 0) == MAP_FAILED ? -1 : 0, EBADF,
                "mmap of a closed descriptor");
    munmap(map, 2 * PAGE);
    munmap(cow, PAGE);

    /* Descriptors. */
    int copy = dup(fd);
    check(copy == fd + 1, "dup: the lowest free number");
    check(lseek(fd, 100, SEEK_SET) == 100 && lseek(copy, 0, SEEK_CUR) == 100, "dup shares the offset");
    check(fcntl(fd, F_GETFD) == FD_CLOEXEC && fcntl(copy, F_GETFD) == 0, "close-on-exec is per descriptor");
    check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "F_GETFL: read-only");
    check(dup2(fd, 20) == 20 && dup3(fd, 21, O_CLOEXEC) == 21 && fcntl(21, F_GETFD) == FD_CLOEXEC, "dup2 and dup3");
    check_errno(dup3(fd, fd, 0), EINVAL, "dup3 onto itself");
    check(close(20) == 0 && close(21) == 0 && close(copy) == 0, "close");
    check_errno(close(copy), EBADF, "close twice");
    check_errno(fcntl(copy, F_GETFD), EBADF, "fcntl of a closed descriptor");
    struct iovec iov[2] = {{magic, 2}, {magic + 2, 2}};
    check(lseek(fd, 0, SEEK_SET) == 0 && readv(fd, iov, 2) == 4 && memcmp(magic, "\177ELF", 4) == 0, "readv");
    close(fd);

    check_errno(open("/no/such/file", O_RDONLY), ENOENT, "open of a missing file");
    check_errno(open(nowhere, O_RDONLY), EFAULT, "open with a bad name");
    check_errno(open("/proc/self/no-such-file", O_RDONLY), ENOENT, "a missing /proc file");
    check_errno(openat(1, "relative", O_RDONLY), ENOTDIR, "openat from a descriptor that is no directory");
    check(access("/proc/self/exe", R_OK) == 0, "access: readable");
    check_errno(access("/no/such/file", F_OK), ENOENT, "access: missing");
}

static void names(char *argv0)
{
    char link[512];
    ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
    check(n > 0, "readlink /proc/self/exe");
    link[n > 0 ? n : 0] = 0;
    const char *base = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
    const char *me = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    check(strcmp(base, me) == 0, "it names this program");
    check(link[0] == '/', "as an absolute path");
    /* The call itself: musl's wrapper lends a byte of its own for 0. */
    check_errno(syscall(SYS_readlink, "/proc/self/exe", link, 0), EINVAL, "readlink into nothing");
    struct utsname u;
    check(uname(&u) == 0 && strcmp(u.sysname, "Linux") == 0 && strcmp(u.machine, "x86_64") == 0,
          "uname: Linux on x86_64");
    char name[16];
    check(prctl(PR_SET_NAME, "worker-thread-name") == 0 && prctl(PR_GET_NAME, name) == 0 &&
              strcmp(name, "worker-thread-n") == 0,
          "prctl: a name of 15 bytes");
    check(getpid() == syscall(SYS_gettid), "one thread: tid is pid");
    check(getuid() == geteuid() && getgid() == getegid(), "real and effective ids agree");
}

static void clocks(void)
{
    struct timespec a, b, r;
    check(clock_gettime(CLOCK_MONOTONIC, &a) == 0, "clock_gettime MONOTONIC");
    struct timespec rt;
    struct timeval tv;
    check(clock_gettime(CLOCK_REALTIME, &rt) == 0 && gettimeofday(&tv, NULL) == 0, "realtime and gettimeofday");
    time_t t = time(NULL);
    check(llabs((long long)t - rt.tv_sec) <= 2 && llabs((long long)tv.tv_sec - rt.tv_sec) <= 2,
          "time, gettimeofday and clock_gettime agree");
    check(rt.tv_sec > 1700000000, "the wall clock is past 2023");
    check(clock_getres(CLOCK_MONOTONIC, &r) == 0 && r.tv_sec == 0 && r.tv_nsec >= 1, "clock_getres");
    check_errno(clock_gettime(12345, &a), EINVAL, "an unknown clock");
    struct timespec nap = {0, 20 * 1000 * 1000};
    check(clock_gettime(CLOCK_MONOTONIC, &a) == 0 && nanosleep(&nap, NULL) == 0 &&
              clock_gettime(CLOCK_MONOTONIC, &b) == 0 && ns(&b) - ns(&a) >= 20 * 1000 * 1000,
          "nanosleep of 20 ms lasts at least 20 ms");
    struct timespec bad = {0, 1000000000};
    check_errno(nanosleep(&bad, NULL), EINVAL, "nanosleep with 10^9 ns");
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 10 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    check(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) == 0 &&
              clock_gettime(CLOCK_MONOTONIC, &b) == 0 && ns(&b) >= ns(&until),
          "clock_nanosleep to an absolute time");
}

static void signals_and_futexes(void)
{
    struct sigaction act = {0}, old;
    act.sa_handler = SIG_IGN;
    check(sigaction(SIGUSR1, &act, NULL) == 0 && sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_IGN,
          "sigaction is recorded");
    check_errno(sigaction(SIGKILL, &act, NULL), EINVAL, "SIGKILL's action cannot change");
    sigset_t set, got;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    check(sigprocmask(SIG_BLOCK, &set, NULL) == 0 && sigprocmask(SIG_BLOCK, NULL, &got) == 0 &&
              sigismember(&got, SIGUSR2),
          "sigprocmask is recorded");
    int word = 5;
    check_errno(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 4, NULL, NULL, 0), EAGAIN,
                "futex wait on a changed word");
    struct timespec timeout = {0, 5 * 1000 * 1000};
    check_errno(syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 5, &timeout, NULL, 0), ETIMEDOUT,
                "futex wait times out");
    check(syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0, "futex wake: nobody waits");
    unsigned char r[32] = {0};
    check(getrandom(r, sizeof r, 0) == sizeof r, "getrandom");
    check(sched_yield() == 0, "sched_yield");
}

int main(int argc, char **argv)
{
    (void)argc;
    static char out[1 << 16];
    setvbuf(stdout, out, _IOFBF, sizeof out);
    files();
    names(argv[0]);
    clocks();
    signals_and_futexes();
    return check_report("files");
}
