/* cat: copies stdin to stdout (or, with the argument "stderr", to stderr)
 * in 64 KiB chunks with read(2)/write(2), no stdio buffering. Exercises
 * fd_read/fd_write on the standard streams, short writes, end of input, and
 * a closed output (the write error is reported on stderr, exit status 1).
 * Also the workload of a stdin→stdout throughput benchmark. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

int main(int argc, char **argv) {
    int out = (argc > 1 && strcmp(argv[1], "stderr") == 0) ? 2 : 1;
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            fprintf(stderr, "cat: read: %s\n", strerror(errno));
            return 1;
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(out, buf + done, (size_t)(n - done));
            if (w < 0) {
                if (out != 2)
                    fprintf(stderr, "cat: write: %s\n", strerror(errno));
                return 1;
            }
            done += w;
        }
    }
}
