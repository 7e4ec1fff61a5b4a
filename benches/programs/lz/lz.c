/* lz: an LZ77 compressor with hash chains over generated text, followed by
 * the decompressor; checks the round trip and prints a checksum of the
 * compressed stream. Input: 2 MiB of words drawn by a fixed-seed PRNG. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../bench.h"

#define INPUT (2u << 20)
#define WINDOW (1u << 16)
#define HASH_BITS 15
#define MIN_MATCH 4
#define MAX_MATCH 255 + MIN_MATCH
#define CHAIN 48

static uint32_t rng = 12345;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static const char *words[] = {
    "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "compiler",
    "wasm", "module", "function", "memory", "table", "import", "export", "a",
    "of", "and", "to", "in", "is", "that", "for", "it", "with", "as", "on",
    "benchmark", "engine", "runtime", "instance", "store", "linker", "value"};

static size_t generate(uint8_t *out, size_t len) {
    size_t n = 0;
    while (n + 16 < len) {
        uint32_t r = next();
        const char *w = words[r % (sizeof words / sizeof *words)];
        size_t wl = strlen(w);
        memcpy(out + n, w, wl);
        n += wl;
        out[n++] = (r >> 8) % 11 == 0 ? '\n' : ' ';
        if ((r >> 12) % 7 == 0) n += (size_t)sprintf((char *)out + n, "%u ", (r >> 16) % 1000);
    }
    return n;
}

static int32_t head[1 << HASH_BITS];
static int32_t prev[WINDOW];

static uint32_t hash4(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Stream: a control byte per token. Below 0x80: a run of 1..128 literals
 * follows. Otherwise a match: length-MIN_MATCH in the next byte, then a
 * 16-bit little-endian distance. */
static size_t compress(const uint8_t *in, size_t len, uint8_t *out) {
    size_t o = 0, lit_start = 0, i = 0;
    for (size_t k = 0; k < (1u << HASH_BITS); k++) head[k] = -1;
    while (i < len) {
        size_t best = 0, dist = 0;
        if (i + MAX_MATCH < len) {
            uint32_t h = hash4(in + i);
            int32_t cand = head[h];
            for (int depth = 0; cand >= 0 && depth < CHAIN; depth++) {
                size_t d = i - (size_t)cand;
                if (d >= WINDOW) break;
                if (in[cand + best] == in[i + best]) {
                    size_t m = 0;
                    while (m < MAX_MATCH && in[cand + m] == in[i + m]) m++;
                    if (m > best) {
                        best = m;
                        dist = d;
                        if (m == MAX_MATCH) break;
                    }
                }
                cand = prev[cand & (WINDOW - 1)];
            }
            prev[i & (WINDOW - 1)] = head[h];
            head[h] = (int32_t)i;
        }
        if (best >= MIN_MATCH) {
            while (lit_start < i) {
                size_t run = i - lit_start > 128 ? 128 : i - lit_start;
                out[o++] = (uint8_t)(run - 1);
                memcpy(out + o, in + lit_start, run);
                o += run;
                lit_start += run;
            }
            out[o++] = 0x80;
            out[o++] = (uint8_t)(best - MIN_MATCH);
            out[o++] = (uint8_t)dist;
            out[o++] = (uint8_t)(dist >> 8);
            for (size_t k = 1; k < best; k++) {
                size_t p = i + k;
                if (p + MAX_MATCH < len) {
                    uint32_t h = hash4(in + p);
                    prev[p & (WINDOW - 1)] = head[h];
                    head[h] = (int32_t)p;
                }
            }
            i += best;
            lit_start = i;
        } else {
            i++;
        }
    }
    while (lit_start < len) {
        size_t run = len - lit_start > 128 ? 128 : len - lit_start;
        out[o++] = (uint8_t)(run - 1);
        memcpy(out + o, in + lit_start, run);
        o += run;
        lit_start += run;
    }
    return o;
}

static size_t decompress(const uint8_t *in, size_t len, uint8_t *out) {
    size_t i = 0, o = 0;
    while (i < len) {
        uint8_t c = in[i++];
        if (c < 0x80) {
            memcpy(out + o, in + i, (size_t)c + 1);
            i += (size_t)c + 1;
            o += (size_t)c + 1;
        } else {
            size_t m = (size_t)in[i] + MIN_MATCH;
            size_t d = (size_t)in[i + 1] | (size_t)in[i + 2] << 8;
            i += 3;
            for (size_t k = 0; k < m; k++, o++) out[o] = out[o - d];
        }
    }
    return o;
}

int main(void) {
    uint8_t *in = malloc(INPUT), *packed = malloc(INPUT + INPUT / 64 + 16), *back = malloc(INPUT);
    size_t len = generate(in, INPUT);
    bench_start();
    size_t plen = compress(in, len, packed);
    size_t blen = decompress(packed, plen, back);
    bench_end();
    uint32_t sum = 2166136261u;
    for (size_t k = 0; k < plen; k++) sum = (sum ^ packed[k]) * 16777619u;
    int ok = blen == len && memcmp(in, back, len) == 0;
    printf("lz: %zu bytes -> %zu bytes, fnv %08x, round trip %s\n", len, plen, sum, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
