/* stdio, argv and envp: prints its arguments and environment in order,
 * formats with printf, writes more than one stdio buffer, writes to
 * stderr, and exits with the status `--exit=N` asks for. */
#include <stdlib.h>

#include "check.h"

extern char **environ;

int main(int argc, char **argv, char **envp)
{
    int status = 0;
    printf("argc %d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d] \"%s\" (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    check(argv[argc] == NULL, "argv ends with NULL");
    int envc = 0;
    for (char **e = envp; *e; e++, envc++)
        printf("envp[%d] \"%s\"\n", envc, *e);
    check(environ == envp, "environ is main's envp");
    check(envp == argv + argc + 1, "envp follows argv's NULL");
    const char *greeting = getenv("GREETING");
    printf("getenv GREETING: %s\n", greeting ? greeting : "(unset)");
    check(getenv("NOT_SET_ANYWHERE") == NULL, "getenv of an unset name is NULL");

    printf("printf: [%5d] [%-5d] [%05.1f] [%x] [%#o] [%s] [%c] [%lld] [%e]\n", 42, -7, 3.14159, 0xbeefu, 8u,
           "str", 'c', -9000000000LL, 12345.678);
    puts("puts adds a newline");
    putchar('!');
    putchar('\n');

    /* More than a 4 KiB stdio buffer, flushed in pieces. */
    unsigned long sum = 0;
    for (int i = 0; i < 300; i++) {
        printf("line %03d %s\n", i, "0123456789abcdefghijklmnopqrstuvwxyz");
        sum += (unsigned long)i;
    }
    printf("sum %lu\n", sum);

    /* stderr goes to the same channel: flush stdout first so the order
     * is the same whether stdout is line or fully buffered. */
    fflush(stdout);
    fprintf(stderr, "to stderr: %d\n", 7);
    fflush(stderr);
    check(write(1, "raw write(1)\n", 13) == 13, "write(1) returns its length");
    check(write(2, "raw write(2)\n", 13) == 13, "write(2) returns its length");

    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--exit=", 7) == 0)
            status = atoi(argv[i] + 7);
    int failed = check_report("stdio_args");
    return failed ? failed : status;
}
