/* exit_code: exit(atoi(argv[1])) after writing to stdout and stderr with
 * stdio and no trailing newline, so the text is still in stdio's buffers
 * when exit() runs: it must flush them before proc_exit. Exercises
 * proc_exit / wasi:cli/exit with a status. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int code = argc > 1 ? atoi(argv[1]) : 0;
    printf("exiting with %d", code);
    fprintf(stderr, "on stderr");
    exit(code);
}
