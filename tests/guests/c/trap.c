/* trap: prints a line on stdout and one on stderr, then executes
 * `unreachable`. The runtime must report the trap and exit with status
 * 134, and both lines must have been written before it. stdout is fully
 * buffered when it is not a terminal, so it is flushed first: what is
 * tested is that output already handed to the host is not lost. */
#include <stdio.h>

int main(void) {
    printf("before the trap (stdout)\n");
    fflush(stdout);
    fprintf(stderr, "before the trap (stderr)\n");
    __builtin_trap();
}
