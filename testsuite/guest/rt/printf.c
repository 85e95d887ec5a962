/*
 * A small printf for the serial console: %d %i %u %x %X %p %s %c %%, the
 * length modifiers l, ll, z, a field width and the '0' and '-' flags.
 * 64-bit values are converted without libgcc (no __udivdi3 in 32-bit).
 */
#include "rt.h"

/* n / 10 by shift-and-subtract, so 32-bit builds need no 64-bit divide. */
static uint64_t div10(uint64_t n, unsigned *rem)
{
    uint64_t q = 0, r = 0;
    for (int i = 63; i >= 0; i--) {
        r = (r << 1) | ((n >> i) & 1);
        if (r >= 10) {
            r -= 10;
            q |= 1ull << i;
        }
    }
    *rem = (unsigned)r;
    return q;
}

static int pad(char c, int n)
{
    for (int i = 0; i < n; i++)
        rt_putc(c);
    return n > 0 ? n : 0;
}

/* Emit `digits` (len chars, with an optional sign) in a field of width. */
static int field(const char *sign, const char *digits, int len, int width,
                 bool zero, bool left)
{
    int slen = (int)strlen(sign), n = 0, fill = width - len - slen;
    if (!left && !zero)
        n += pad(' ', fill);
    rt_puts(sign);
    if (!left && zero)
        n += pad('0', fill);
    for (int i = 0; i < len; i++)
        rt_putc(digits[i]);
    if (left)
        n += pad(' ', fill);
    return n + slen + len;
}

static int number(uint64_t v, unsigned base, bool upper, const char *sign,
                  int width, bool zero, bool left)
{
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char buf[24];
    int i = sizeof(buf);
    do {
        unsigned r;
        if (base == 16) {
            r = (unsigned)(v & 15);
            v >>= 4;
        } else {
            v = div10(v, &r);
        }
        buf[--i] = dig[r];
    } while (v);
    return field(sign, buf + i, (int)sizeof(buf) - i, width, zero, left);
}

int rt_vprintf(const char *fmt, va_list ap)
{
    int n = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            n++;
            continue;
        }
        bool zero = false, left = false;
        int width = 0, longs = 0;
        for (;; fmt++) {
            if (fmt[1] == '0')
                zero = true;
            else if (fmt[1] == '-')
                left = true;
            else
                break;
        }
        while (fmt[1] >= '0' && fmt[1] <= '9')
            width = width * 10 + (*++fmt - '0');
        while (fmt[1] == 'l' || fmt[1] == 'z') {
            fmt++;
            longs += *fmt == 'z' ? (sizeof(size_t) == 8 ? 2 : 0) : 1;
        }
        char c = *++fmt;
        uint64_t u = 0;
        if (c == 'd' || c == 'i' || c == 'u' || c == 'x' || c == 'X') {
            bool sgn = c == 'd' || c == 'i';
            if (longs >= 2)
                u = va_arg(ap, unsigned long long);
            else if (longs == 1)
                u = sgn ? (uint64_t)(int64_t)va_arg(ap, long)
                        : (uint64_t)va_arg(ap, unsigned long);
            else
                u = sgn ? (uint64_t)(int64_t)va_arg(ap, int)
                        : (uint64_t)va_arg(ap, unsigned);
            if (sgn && (int64_t)u < 0)
                n += number(-u, 10, false, "-", width, zero, left);
            else
                n += number(u, sgn || c == 'u' ? 10 : 16, c == 'X', "",
                            width, zero, left);
        } else if (c == 'p') {
            u = (uintptr_t)va_arg(ap, void *);
            n += number(u, 16, false, "0x", width, zero, left);
        } else if (c == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            n += field("", s, (int)strlen(s), width, false, left);
        } else if (c == 'c') {
            char ch = (char)va_arg(ap, int);
            n += field("", &ch, 1, width, false, left);
        } else if (c == '%') {
            rt_putc('%');
            n++;
        } else {
            if (!c)
                break;
            rt_putc('%');
            rt_putc(c);
            n += 2;
        }
    }
    return n;
}

int rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = rt_vprintf(fmt, ap);
    va_end(ap);
    return n;
}
