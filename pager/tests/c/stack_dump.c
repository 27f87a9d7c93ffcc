/* Prints the facts of its own initial stack, as Linux laid it out, for
 * pager/tests/exec_linux.rs to compare with the pager's image. Run it with
 * randomization off (setarch -R) so the layout is deterministic.
 *
 * Output, one fact a line (strings in hex):
 *   sp <addr>
 *   argc <n>
 *   argv <addr> <hex>       one per argument
 *   envp <addr> <hex>       one per variable
 *   auxv <type> <value>     in order, AT_NULL last
 *   top <addr>              one past the 8 zero bytes after AT_EXECFN's string
 *   bytes <hex>             the memory from AT_RANDOM up to top
 */
#include <stdio.h>
#include <string.h>

static void hex(const unsigned char *p, unsigned long n) {
    for (unsigned long i = 0; i < n; i++)
        printf("%02x", p[i]);
}

int main(int argc, char **argv) {
    /* argv sits one word above argc, which is where sp pointed at entry. */
    unsigned long *sp = (unsigned long *)argv - 1;
    printf("sp %lx\nargc %lu\n", (unsigned long)sp, sp[0]);
    unsigned long *w = sp + 1;
    for (; *w; w++) {
        printf("argv %lx ", *w);
        hex((const unsigned char *)*w, strlen((const char *)*w));
        printf("\n");
    }
    for (w++; *w; w++) {
        printf("envp %lx ", *w);
        hex((const unsigned char *)*w, strlen((const char *)*w));
        printf("\n");
    }
    unsigned long random = 0, execfn = 0;
    for (w++;; w += 2) {
        printf("auxv %lu %lx\n", w[0], w[1]);
        if (w[0] == 25)
            random = w[1];
        if (w[0] == 31)
            execfn = w[1];
        if (w[0] == 0)
            break;
    }
    unsigned long top = execfn + strlen((const char *)execfn) + 1 + 8;
    printf("top %lx\nbytes ", top);
    hex((const unsigned char *)random, top - random);
    printf("\n");
    (void)argc;
    return 0;
}
