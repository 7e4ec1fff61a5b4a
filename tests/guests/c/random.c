/* random: getentropy() of 32 bytes, twice (random_get /
 * wasi:random/random). Prints whether the two draws differ and whether
 * each is not all zero. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int all_zero(const unsigned char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

int main(void) {
    unsigned char a[32], b[32];
    if (getentropy(a, sizeof a) != 0 || getentropy(b, sizeof b) != 0) {
        puts("getentropy failed");
        return 1;
    }
    printf("differ: %s\n", memcmp(a, b, sizeof a) != 0 ? "yes" : "no");
    printf("nonzero: %s\n", !all_zero(a, sizeof a) && !all_zero(b, sizeof b) ? "yes" : "no");
    return 0;
}
