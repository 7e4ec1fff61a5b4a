/* args_env: the command line, the environment and the working directory.
 *
 *   args_env NAME...
 *
 * prints argc, every argv[i], then for each NAME the value of the
 * environment variable NAME (or that it is unset), then getcwd().
 * Exercises args_get/args_sizes_get, environ_get/environ_sizes_get
 * (wasi:cli/environment) and wasi-libc's notion of the cwd. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (int i = 1; i < argc; i++) {
        const char *v = getenv(argv[i]);
        if (v)
            printf("env %s=%s\n", argv[i], v);
        else
            printf("env %s unset\n", argv[i]);
    }
    char cwd[4096];
    if (getcwd(cwd, sizeof cwd))
        printf("cwd=%s\n", cwd);
    else
        printf("cwd failed\n");
    return 0;
}
