/* The vDSO benchmark: TSC ticks per clock_gettime(CLOCK_MONOTONIC)
 * through the vDSO, per time() through the emulated vsyscall page, and per
 * forwarded getppid (a real system call, for scale). Under QEMU's
 * `-icount shift=0` a tick is a guest instruction, so the figures compare
 * this kernel with Linux booted in the same QEMU running this same static
 * binary (as its /init: then it mounts sysfs, says which clocksource Linux
 * uses, and powers off). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#define CALLS 100000
#define VSYSCALL_CALLS 1000

static void clocksource(void)
{
    mkdir("/sys", 0555);
    if (mount("sysfs", "/sys", "sysfs", 0, NULL) != 0)
        return;
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    char name[64] = "?";
    if (f && fgets(name, sizeof name, f))
        printf("bench clocksource %s", name);
    if (f)
        fclose(f);
}

int main(void)
{
    int init = getpid() == 1;
    if (init)
        clocksource();
    struct timespec ts;
    for (int i = 0; i < 1000; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t c0 = __rdtsc();
    for (int i = 0; i < CALLS; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t c1 = __rdtsc();
    printf("bench vdso_clock_gettime calls=%d ticks_per_call=%.0f\n", CALLS, (double)(c1 - c0) / CALLS);

    time_t (*vtime)(time_t *) = (time_t (*)(time_t *))0xffffffffff600400ul;
    vtime(NULL);
    c0 = __rdtsc();
    for (int i = 0; i < VSYSCALL_CALLS; i++)
        vtime(NULL);
    c1 = __rdtsc();
    printf("bench vsyscall_time calls=%d ticks_per_call=%.0f\n", VSYSCALL_CALLS, (double)(c1 - c0) / VSYSCALL_CALLS);

    c0 = __rdtsc();
    for (int i = 0; i < VSYSCALL_CALLS; i++)
        syscall(SYS_getppid);
    c1 = __rdtsc();
    printf("bench syscall_getppid calls=%d ticks_per_call=%.0f\n", VSYSCALL_CALLS, (double)(c1 - c0) / VSYSCALL_CALLS);
    fflush(stdout);
    if (init)
        reboot(RB_POWER_OFF);
    return 0;
}
