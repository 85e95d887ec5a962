/*
 * A small printf for the serial console (and snprintf into a buffer):
 * %d %i %u %x %X %p %s %c %%, the length modifiers l, ll, z, a field
 * width and the '0' and '-' flags. 64-bit values are converted without
 * libgcc (no __udivdi3 in 32-bit builds).
 */
#include "rt.h"

/* Where output goes: the serial port (buf == NULL) or a buffer. */
struct sink {
    char *buf;
    size_t size, len;
};

static void emit(struct sink *o, char c)
{
    if (!o->buf)
        rt_putc(c);
    else if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

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

static void pad(struct sink *o, char c, int n)
{
    for (int i = 0; i < n; i++)
        emit(o, c);
}

/* Emit `digits` (len chars, with an optional sign) in a field of width. */
static void field(struct sink *o, const char *sign, const char *digits,
                  int len, int width, bool zero, bool left)
{
    int fill = width - len - (int)strlen(sign);
    if (!left && !zero)
        pad(o, ' ', fill);
    while (*sign)
        emit(o, *sign++);
    if (!left && zero)
        pad(o, '0', fill);
    for (int i = 0; i < len; i++)
        emit(o, digits[i]);
    if (left)
        pad(o, ' ', fill);
}

static void number(struct sink *o, uint64_t v, unsigned base, bool upper,
                   const char *sign, int width, bool zero, bool left)
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
    field(o, sign, buf + i, (int)sizeof(buf) - i, width, zero, left);
}

static void format(struct sink *o, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(o, *fmt);
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
                number(o, -u, 10, false, "-", width, zero, left);
            else
                number(o, u, sgn || c == 'u' ? 10 : 16, c == 'X', "",
                            width, zero, left);
        } else if (c == 'p') {
            u = (uintptr_t)va_arg(ap, void *);
            number(o, u, 16, false, "0x", width, zero, left);
        } else if (c == 's') {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            field(o, "", s, (int)strlen(s), width, false, left);
        } else if (c == 'c') {
            char ch = (char)va_arg(ap, int);
            field(o, "", &ch, 1, width, false, left);
        } else if (c == '%') {
            emit(o, '%');
        } else {
            if (!c)
                break;
            emit(o, '%');
            emit(o, c);
        }
    }
}

int rt_vprintf(const char *fmt, va_list ap)
{
    struct sink o = { 0 };
    format(&o, fmt, ap);
    return (int)o.len;
}

int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink o = { buf, size, 0 };
    format(&o, fmt, ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = 0;
    return (int)o.len;
}

int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = rt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
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
