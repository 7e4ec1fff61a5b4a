/* A small vsnprintf for the WASI 0.2 guests: wasi-libc's stdio would pull
 * in preview1 imports (fd_write, fd_seek, fd_close), and these guests
 * import nothing but WASI 0.2. Knows %s, %.*s, %c, %d, %u, %zu, %llu, %%. */
#ifndef FORMAT_H
#define FORMAT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

static size_t format(char *buf, size_t cap, const char *fmt, va_list ap) {
    size_t n = 0;
#define PUT(c) do { if (n < cap) buf[n] = (c); n++; } while (0)
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            PUT(*p);
            continue;
        }
        p++;
        int precision = -1;
        if (p[0] == '.' && p[1] == '*') {
            precision = va_arg(ap, int);
            p += 2;
        }
        unsigned long long u;
        int negative = 0;
        if (*p == 's') {
            const char *s = va_arg(ap, const char *);
            for (int i = 0; s[i] && (precision < 0 || i < precision); i++)
                PUT(s[i]);
            continue;
        } else if (*p == 'c') {
            PUT((char)va_arg(ap, int));
            continue;
        } else if (*p == '%') {
            PUT('%');
            continue;
        } else if (*p == 'd') {
            int v = va_arg(ap, int);
            negative = v < 0;
            u = negative ? -(unsigned long long)v : (unsigned long long)v;
        } else if (*p == 'u') {
            u = va_arg(ap, unsigned);
        } else if (p[0] == 'z' && p[1] == 'u') {
            u = va_arg(ap, size_t);
            p++;
        } else if (p[0] == 'l' && p[1] == 'l' && p[2] == 'u') {
            u = va_arg(ap, unsigned long long);
            p += 2;
        } else {
            PUT('?');
            continue;
        }
        char digits[24];
        int k = 0;
        do {
            digits[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (negative)
            PUT('-');
        while (k)
            PUT(digits[--k]);
    }
#undef PUT
    return n < cap ? n : cap;
}
#endif
