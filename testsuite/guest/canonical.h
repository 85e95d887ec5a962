/*
 * canonical.h: canonicality of the bases and addresses that instructions
 * and WRMSR load, for lm64_canonical.c and la57.c (64-bit only).
 *
 * A CPU that supports 5-level paging checks these against its maximum
 * linear-address width, 57 bits, whatever CR4.LA57 says; one without it
 * against 48 bits. Ordinary memory references follow the current paging
 * mode instead (SDM Vol. 1 3.3.7.1; Vol. 3A 4.1.1; Vol. 2 LGDT, LIDT,
 * LLDT, LTR, INVPCID, WRFSBASE, WRMSR "#GP(0) if ... non-canonical").
 * LLDT and LTR raise #GP(selector) for a 16-byte descriptor whose base
 * is not canonical.
 */
#ifndef CANONICAL_H
#define CANONICAL_H

#include "rt.h"

#define CANON_48 0xffffaaaaaaaaaaaaull /* canonical for 48 and 57 bits */
#define CANON_57 0xffaaaaaaaaaaaaaaull /* canonical for 57 bits only */
#define NONCANON 0xaaaaaaaaaaaaaaaaull /* canonical for neither */

#define CANON_CR4_FSGSBASE (1ul << 16)
#define CANON_SEL_TSS RT_SEL_SPARE          /* 0x70, 16 bytes */
#define CANON_SEL_LDT (RT_SEL_SPARE + 16)   /* 0x80, 16 bytes */

struct __attribute__((packed)) canon_dtr {
    uint16_t limit;
    uint64_t base;
};

/* A 16-byte system descriptor (Vol. 3A 8.2.3, Figure 8-4): type 2 LDT,
   9 available 64-bit TSS. */
static void canon_sys_desc(uint16_t sel, unsigned type, uint64_t base, uint32_t limit)
{
    uint64_t lo = (limit & 0xffffull) | (base & 0xffffffull) << 16 |
                  (uint64_t)type << 40 | 1ull << 47 |
                  (uint64_t)(limit >> 16 & 0xf) << 48 | (base >> 24 & 0xff) << 56;
    rt_gdt_set(sel, lo);
    rt_gdt_set((uint16_t)(sel + 8), base >> 32);
}

static int canon_lgdt(const struct canon_dtr *d)
{
    return catch_asm(RT_CATCH_BEGIN "lgdt (%0)" RT_CATCH_END ::"r"(d) : "memory");
}

static int canon_lidt(const struct canon_dtr *d)
{
    return catch_asm(RT_CATCH_BEGIN "lidt (%0)" RT_CATCH_END ::"r"(d) : "memory");
}

static int canon_lldt(uint16_t sel)
{
    return catch_asm(RT_CATCH_BEGIN "lldt %w0" RT_CATCH_END ::"r"(sel) : "memory");
}

static int canon_ltr(uint16_t sel)
{
    return catch_asm(RT_CATCH_BEGIN "ltr %w0" RT_CATCH_END ::"r"(sel) : "memory");
}

static int canon_wrmsr(uint32_t msr, uint64_t v)
{
    return catch_asm(RT_CATCH_BEGIN "wrmsr" RT_CATCH_END
                     ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
                     : "memory");
}

static int canon_invpcid0(uint64_t addr)
{
    struct { uint64_t pcid, addr; } desc = { 0, addr };
    return catch_asm(RT_CATCH_BEGIN "invpcid (%0), %1" RT_CATCH_END
                     ::"r"(&desc), "r"(0ul) : "memory");
}

static int canon_wrfsbase(uint64_t v)
{
    return catch_asm(RT_CATCH_BEGIN "wrfsbase %0" RT_CATCH_END ::"r"(v) : "memory");
}

static uint64_t canon_rdfsbase(void)
{
    uint64_t v;
    __asm__ volatile("rdfsbase %0" : "=r"(v));
    return v;
}

/* Expect the load of v to succeed (-1) or to raise #GP with `error`. */
static void canon_expect(const char *what, uint64_t v, int vec, int want_ok, uint64_t error)
{
    if (want_ok) {
        if (vec != -1)
            rt_fail(RT_FILE, __LINE__, "%s with 0x%llx: vector %d, expected no fault",
                    what, (unsigned long long)v, vec);
    } else if (vec != VEC_GP || rt_fault.error != error) {
        rt_fail(RT_FILE, __LINE__, "%s with 0x%llx: vector %d error 0x%llx, "
                "expected #GP(0x%llx)", what, (unsigned long long)v, vec,
                (unsigned long long)rt_fault.error, (unsigned long long)error);
    }
}

/* Every check, with the CPU's maximum width `width` (48 or 57). */
static void canonical_checks(unsigned width)
{
    static const uint32_t base_msrs[] = {
        0xC0000100, 0xC0000101, 0xC0000102, /* FS_BASE, GS_BASE, KERNEL_GS_BASE */
        0xC0000082, 0xC0000083,             /* LSTAR, CSTAR */
        0x175, 0x176,                       /* SYSENTER_ESP, SYSENTER_EIP */
    };
    static uint8_t tss[104] __attribute__((aligned(16)));
    const uint64_t values[3] = { CANON_48, CANON_57, NONCANON };
    const bool ok[3] = { true, width == 57, false };

    rt_user_init(); /* the GDT with spare slots and the runtime's TSS */
    struct canon_dtr gdtr, idtr;
    __asm__ volatile("sgdt %0" : "=m"(gdtr));
    __asm__ volatile("sidt %0" : "=m"(idtr));
    unsigned long cr4 = read_cr4();
    write_cr4(cr4 | CANON_CR4_FSGSBASE);
    uint64_t fsbase = canon_rdfsbase();

    for (int k = 0; k < 3; k++) {
        uint64_t v = values[k];
        struct canon_dtr d = { gdtr.limit, v };
        /* LGDT/LIDT then at once back: no exception in between. */
        int vec = canon_lgdt(&d);
        __asm__ volatile("lgdt %0" ::"m"(gdtr) : "memory");
        canon_expect("LGDT", v, vec, ok[k], 0);
        d.limit = idtr.limit;
        vec = canon_lidt(&d);
        __asm__ volatile("lidt %0" ::"m"(idtr) : "memory");
        canon_expect("LIDT", v, vec, ok[k], 0);

        canon_sys_desc(CANON_SEL_LDT, 2, v, 0xfff);
        canon_expect("LLDT", v, canon_lldt(CANON_SEL_LDT), ok[k], CANON_SEL_LDT);
        canon_lldt(0);
        canon_sys_desc(CANON_SEL_TSS, 9, v, sizeof(tss) - 1);
        canon_expect("LTR", v, canon_ltr(CANON_SEL_TSS), ok[k], CANON_SEL_TSS);
        /* A faulting LTR leaves the descriptor available (not busy). */
        if (!ok[k])
            ASSERT_EQ(rt_gdt_get(CANON_SEL_TSS) >> 40 & 0xf, 9);

        for (unsigned m = 0; m < sizeof(base_msrs) / sizeof(base_msrs[0]); m++) {
            uint64_t old = rdmsr(base_msrs[m]);
            int vm = canon_wrmsr(base_msrs[m], v);
            uint64_t now = rdmsr(base_msrs[m]);
            wrmsr(base_msrs[m], old);
            canon_expect("WRMSR", v, vm, ok[k], 0);
            ASSERT_EQ(now, ok[k] ? v : old);
        }

        vec = canon_wrfsbase(v);
        uint64_t now = canon_rdfsbase();
        canon_wrfsbase(fsbase);
        canon_expect("WRFSBASE", v, vec, ok[k], 0);
        ASSERT_EQ(now, ok[k] ? v : fsbase);

        canon_expect("INVPCID type 0", v, canon_invpcid0(v), ok[k], 0);
    }

    /* Back to the runtime's TSS: clear its busy bit, load it again. */
    rt_gdt_set(RT_SEL_TSS, rt_gdt_get(RT_SEL_TSS) & ~(2ull << 40));
    __asm__ volatile("ltr %w0" ::"r"((uint16_t)RT_SEL_TSS) : "memory");
    canon_sys_desc(CANON_SEL_TSS, 9, (uintptr_t)tss, sizeof(tss) - 1);
    write_cr4(cr4);
}

#endif
