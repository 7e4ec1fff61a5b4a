/* hello: the smallest WASI command. Exercises stdout (fd_write through
 * stdio) and a normal exit with status 0. */
#include <stdio.h>

int main(void) {
    puts("Hello, world!");
    return 0;
}
