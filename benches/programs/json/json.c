/* json: a recursive-descent JSON parser building a tree in an arena, over
 * a generated document (about 3 MB: records with numbers, strings with
 * escapes, nested arrays and objects), parsed several times; prints the
 * node count and checksums of what it found. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../bench.h"

#define RECORDS 20000
#define PASSES 8

enum kind { NUL, BOOL, NUM, STR, ARR, OBJ };
struct node {
    enum kind kind;
    uint32_t first, next; /* children: first child, next sibling (0: none) */
    uint32_t key;         /* hash of the member name in an object */
    double num;
    uint32_t str;         /* hash of a string's decoded bytes */
};

static struct node *nodes;
static uint32_t count, capacity;
static const char *p;
static int failed;

static uint32_t rng = 2463534242u;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static size_t generate(char *out) {
    static const char *names[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
    size_t n = 0;
    n += (size_t)sprintf(out + n, "{\"records\": [\n");
    for (int r = 0; r < RECORDS; r++) {
        uint32_t a = next(), b = next();
        n += (size_t)sprintf(out + n,
                             "  {\"id\": %d, \"name\": \"%s-%u\", \"score\": %u.%03u, "
                             "\"neg\": -%ue%u, \"ok\": %s, \"none\": null, "
                             "\"text\": \"line\\n\\t\\\"quoted\\\" \\u00e9%u\", "
                             "\"tags\": [%u, %u, [%u, {\"deep\": %u}]], "
                             "\"pos\": {\"x\": %u, \"y\": %u.5}}%s\n",
                             r, names[a % 6], a % 100000, a % 1000, b % 1000, b % 97,
                             b % 5, (b & 1) ? "true" : "false", a % 777, a % 13, b % 17,
                             a % 19, b % 23, a % 4096, b % 4096,
                             r + 1 < RECORDS ? "," : "");
    }
    n += (size_t)sprintf(out + n, "]}\n");
    return n;
}

static uint32_t alloc(enum kind kind) {
    if (count >= capacity) {
        capacity = capacity ? capacity * 2 : 1024;
        nodes = realloc(nodes, capacity * sizeof *nodes);
    }
    struct node *n = &nodes[count];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return count++;
}

static void ws(void) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
}

static uint32_t string_hash(void) {
    uint32_t h = 2166136261u;
    p++; /* opening quote */
    for (;;) {
        unsigned char c = (unsigned char)*p++;
        if (c == '"') return h;
        if (c == 0) { failed = 1; return h; }
        if (c == '\\') {
            char e = *p++;
            switch (e) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    char d = *p++;
                    v = v * 16 + (unsigned)(d <= '9' ? d - '0' : (d | 32) - 'a' + 10);
                }
                /* UTF-8 of a BMP code point */
                if (v >= 0x80) {
                    if (v >= 0x800) h = (h ^ (0xe0 | v >> 12)) * 16777619u, v = 0x800 | (v & 0xfff);
                    h = (h ^ (0xc0 | v >> 6)) * 16777619u;
                    c = (unsigned char)(0x80 | (v & 0x3f));
                } else {
                    c = (unsigned char)v;
                }
                break;
            }
            default: c = (unsigned char)e;
            }
        }
        h = (h ^ c) * 16777619u;
    }
}

static double number(void) {
    int neg = *p == '-';
    if (neg) p++;
    double v = 0;
    while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
    if (*p == '.') {
        double scale = 1;
        p++;
        while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0'), scale *= 10;
        v /= scale;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        int eneg = *p == '-';
        if (*p == '-' || *p == '+') p++;
        int e = 0;
        while (*p >= '0' && *p <= '9') e = e * 10 + (*p++ - '0');
        double m = 1;
        while (e--) m *= 10;
        v = eneg ? v / m : v * m;
    }
    return neg ? -v : v;
}

static uint32_t value(void);

static uint32_t members(enum kind kind, char close) {
    uint32_t self = alloc(kind), last = 0;
    p++;
    ws();
    if (*p == close) { p++; return self; }
    for (;;) {
        uint32_t key = 0;
        ws();
        if (kind == OBJ) {
            if (*p != '"') { failed = 1; return self; }
            key = string_hash();
            ws();
            if (*p++ != ':') { failed = 1; return self; }
        }
        uint32_t child = value();
        nodes[child].key = key;
        if (last) nodes[last].next = child; else nodes[self].first = child;
        last = child;
        ws();
        if (*p == ',') { p++; continue; }
        if (*p == close) { p++; return self; }
        failed = 1;
        return self;
    }
}

static uint32_t value(void) {
    ws();
    switch (*p) {
    case '{': return members(OBJ, '}');
    case '[': return members(ARR, ']');
    case '"': { uint32_t n = alloc(STR); uint32_t h = string_hash(); nodes[n].str = h; return n; }
    case 't': p += 4; { uint32_t n = alloc(BOOL); nodes[n].num = 1; return n; }
    case 'f': p += 5; return alloc(BOOL);
    case 'n': p += 4; return alloc(NUL);
    default: { uint32_t n = alloc(NUM); nodes[n].num = number(); return n; }
    }
}

/* Walks the tree: sum of numbers, xor of key and string hashes, depth. */
static void walk(uint32_t n, int depth, double *sum, uint32_t *hash, int *deepest) {
    for (; ; n = nodes[n].next) {
        struct node *x = &nodes[n];
        if (depth > *deepest) *deepest = depth;
        *sum += x->num;
        *hash = (*hash ^ x->key ^ x->str ^ (uint32_t)x->kind) * 16777619u;
        if (x->first) walk(x->first, depth + 1, sum, hash, deepest);
        if (!x->next) return;
    }
}

int main(void) {
    char *text = malloc((size_t)RECORDS * 256 + 64);
    size_t len = generate(text);
    double sum = 0;
    uint32_t hash = 0;
    int deepest = 0;
    bench_start();
    for (int pass = 0; pass < PASSES; pass++) {
        count = 1; /* node 0 means "none" */
        p = text;
        uint32_t root = value();
        sum = 0, hash = 2166136261u, deepest = 0;
        walk(root, 0, &sum, &hash, &deepest);
    }
    bench_end();
    printf("json: %zu bytes, %u nodes, depth %d, sum %.3f, hash %08x%s\n", len, count - 1,
           deepest, sum, hash, failed ? ", PARSE ERROR" : "");
    return failed;
}
