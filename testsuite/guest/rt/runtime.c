/*
 * Runtime entry from rt/entry.S, the test-case and assertion helpers, and
 * the few libc functions gcc may call even in freestanding code.
 */
#include "rt.h"

void rt_serial_init(void);
void rt_idt_init(void);
void rt_main(void);

static unsigned tests_passed;
unsigned long rt_checks;

void rt_main(void)
{
    rt_serial_init();
    rt_idt_init();
    if (rt_boot_magic != 0x2BADB002) /* Multiboot spec 3.2: EAX */
        rt_printf("# rt: warning: multiboot magic is 0x%x\n", rt_boot_magic);
    test_main();
    if (tests_passed)
        rt_printf("PASS (%u tests, %lu checks)\n", tests_passed, rt_checks);
    else
        rt_printf("PASS\n");
    rt_exit(RT_EXIT_PASS);
}

bool rt_cmdline_has(const char *word)
{
    const struct multiboot_info *mbi =
        (const void *)(uintptr_t)rt_boot_info;
    if (!mbi || !(mbi->flags & 4) || !mbi->cmdline)
        return false;
    size_t n = strlen(word);
    for (const char *p = (const char *)(uintptr_t)mbi->cmdline; *p;) {
        while (*p == ' ')
            p++;
        size_t len = 0;
        while (p[len] && p[len] != ' ')
            len++;
        if (len == n && !memcmp(p, word, n))
            return true;
        p += len;
    }
    return false;
}

void rt_test(const char *name, void (*fn)(void))
{
    fn();
    tests_passed++;
    rt_printf("ok - %s\n", name);
}

void rt_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    rt_printf("FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_putc('\n');
    rt_exit(RT_EXIT_ASSERT);
}

void rt_fail_cmp(const char *file, int line, const char *expr,
                 unsigned long long got, unsigned long long expected)
{
    rt_fail(file, line, "%s (got 0x%llx, expected 0x%llx)", expr, got,
            expected);
}

void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    return memmove(d, s, n);
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;
    if (dp < sp) {
        while (n--)
            *dp++ = *sp++;
    } else {
        while (n--)
            dp[n] = sp[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
