/*
 * nest86 guest test-kernel runtime: the one header a test includes.
 *
 * A test defines `void test_main(void)`. The runtime has already set up a
 * flat GDT, a stack, the IDT (all 32 exception vectors), COM1, and — for
 * 64-bit tests — long mode with the low 4 GiB identity-mapped by 2 MiB
 * pages. Returning from test_main prints "PASS" and exits with value 0.
 */
#ifndef RT_H
#define RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* GDT selectors set up by rt/entry.S (same layout in both variants). */
#define RT_SEL_CODE32 0x08 /* 32-bit code, base 0, limit 4 GiB (D=1, L=0) */
#define RT_SEL_DATA 0x10   /* 32-bit data, base 0, limit 4 GiB */
#define RT_SEL_CODE64 0x18 /* 64-bit code (L=1, D=0) */
#define RT_SEL_CODE16 0x20 /* 16-bit code, base 0, limit 64 KiB */
#define RT_SEL_DATA16 0x28 /* 16-bit data, base 0, limit 64 KiB */
#define RT_GDT_ENTRIES 6

/* Exit values (isa-debug-exit turns V into emulator status (V<<1)|1). */
#define RT_EXIT_PASS 0
#define RT_EXIT_ASSERT 1
#define RT_EXIT_EXCEPTION 2

/* Exception vectors (SDM Vol. 3A, 6.3.1, Table 6-1). */
enum {
    VEC_DE = 0, VEC_DB = 1, VEC_NMI = 2, VEC_BP = 3, VEC_OF = 4, VEC_BR = 5,
    VEC_UD = 6, VEC_NM = 7, VEC_DF = 8, VEC_TS = 10, VEC_NP = 11, VEC_SS = 12,
    VEC_GP = 13, VEC_PF = 14, VEC_MF = 16, VEC_AC = 17, VEC_MC = 18,
    VEC_XM = 19, VEC_VE = 20, VEC_CP = 21,
};

/* #PF error code bits (SDM Vol. 3A, 4.7, Figure 4-12). */
#define PF_P 0x1    /* 0: not-present page; 1: protection violation */
#define PF_W 0x2    /* write access */
#define PF_U 0x4    /* user-mode access */
#define PF_RSVD 0x8 /* reserved bit set in a paging-structure entry */
#define PF_I 0x10   /* instruction fetch */

/* Paging-entry bits (SDM Vol. 3A, 4.3-4.5, Tables 4-4..4-20). */
#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_U 0x4ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_A 0x20ull
#define PTE_D 0x40ull
#define PTE_PS 0x80ull
#define PTE_G 0x100ull
#define PTE_XD (1ull << 63)

#define CR0_PE (1ul << 0)
#define CR0_WP (1ul << 16)
#define CR0_PG (1ul << 31)
#define CR4_PSE (1ul << 4)
#define CR4_PAE (1ul << 5)
#define MSR_EFER 0xC0000080u
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* ---- output, exit ------------------------------------------------------ */
void rt_putc(char c);
void rt_puts(const char *s);
int rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int rt_vprintf(const char *fmt, va_list ap);
/* Like C snprintf: returns the full length, always NUL-terminates. */
int rt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int rt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
__attribute__((noreturn)) void rt_exit(unsigned code);

/* ---- tests and assertions --------------------------------------------- */
void test_main(void); /* provided by each test */

/* Run one test case; prints "ok - NAME" when it returns. */
void rt_test(const char *name, void (*fn)(void));
#define RUN_TEST(fn) rt_test(#fn, fn)

#ifdef __FILE_NAME__
#define RT_FILE __FILE_NAME__
#else
#define RT_FILE __FILE__
#endif

__attribute__((noreturn)) void rt_fail(const char *file, int line,
                                       const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
__attribute__((noreturn)) void rt_fail_cmp(const char *file, int line,
                                           const char *expr,
                                           unsigned long long got,
                                           unsigned long long expected);

/* checks made so far (every ASSERT* and expect_fault counts one); the
   kernel's last line reports them and testsuite/run adds them up */
extern unsigned long rt_checks;

#define ASSERT(cond)                                                       \
    do {                                                                   \
        rt_checks++;                                                       \
        if (!(cond))                                                       \
            rt_fail(RT_FILE, __LINE__, "%s", #cond);                       \
    } while (0)

/* Prints "FAIL f.c:42: a == b (got 0x.., expected 0x..)"; b is the
   expected (SDM) value. */
#define ASSERT_EQ(a, b)                                                    \
    do {                                                                   \
        unsigned long long rt_a_ = (unsigned long long)(a);                \
        unsigned long long rt_b_ = (unsigned long long)(b);                \
        rt_checks++;                                                       \
        if (rt_a_ != rt_b_)                                                \
            rt_fail_cmp(RT_FILE, __LINE__, #a " == " #b, rt_a_, rt_b_);    \
    } while (0)

#define ASSERT_NE(a, b)                                                    \
    do {                                                                   \
        unsigned long long rt_a_ = (unsigned long long)(a);                \
        unsigned long long rt_b_ = (unsigned long long)(b);                \
        rt_checks++;                                                       \
        if (rt_a_ == rt_b_)                                                \
            rt_fail_cmp(RT_FILE, __LINE__, #a " != " #b, rt_a_, rt_b_);    \
    } while (0)

int strcmp(const char *a, const char *b);
#define ASSERT_STREQ(a, b)                                                 \
    do {                                                                   \
        const char *rt_sa_ = (a), *rt_sb_ = (b);                           \
        rt_checks++;                                                       \
        if (strcmp(rt_sa_, rt_sb_))                                        \
            rt_fail(RT_FILE, __LINE__,                                     \
                    "%s == %s (got \"%s\", expected \"%s\")", #a, #b,      \
                    rt_sa_, rt_sb_);                                       \
    } while (0)

/* ---- exceptions -------------------------------------------------------- */

/* What the last exception looked like (written by the IDT handlers). */
struct rt_fault {
    int vector;         /* -1: none since rt_fault_reset() */
    uint64_t error;     /* error code, 0 for vectors that push none */
    uint64_t ip;        /* RIP/EIP saved in the exception frame */
    uint64_t cr2;       /* CR2 at handler entry */
    uint16_t cs;        /* CS saved in the frame */
    uint64_t flags;     /* RFLAGS/EFLAGS saved in the frame */
    unsigned count;     /* exceptions taken since boot */
};
extern volatile struct rt_fault rt_fault;

/* Non-zero: the next exception resumes here (then it is cleared). */
extern volatile uintptr_t rt_recover_ip;

void rt_fault_reset(void);

/*
 * Call fn(); return -1 if it returned normally, or the vector of the first
 * exception it raised (fn is abandoned at that point, rt_fault holds the
 * details). Not nestable.
 */
int rt_try(void (*fn)(void));

#define expect_fault(vec, fn)                                              \
    do {                                                                   \
        int rt_v_ = rt_try(fn);                                            \
        rt_checks++;                                                       \
        if (rt_v_ != (vec))                                                \
            rt_fail(RT_FILE, __LINE__,                                     \
                    "fault from %s (got vector %d, expected %d)", #fn,    \
                    rt_v_, (int)(vec));                                    \
    } while (0)

/*
 * Catch an exception from one inline-asm instruction and resume after it.
 * Use inside an asm string: RT_CATCH_BEGIN "insn" RT_CATCH_END. The
 * recovery label is 8765; define "8764:" yourself to take an address.
 *
 *   int v = catch_asm(RT_CATCH_BEGIN "ud2" RT_CATCH_END ::: "memory");
 *
 * catch_asm evaluates to the vector raised, or -1. RT_INSN_ADDR puts the
 * address of label 8764 into operand %0, to compare with rt_fault.ip:
 *
 *   catch_asm(RT_INSN_ADDR RT_CATCH_BEGIN "8764: ud2" RT_CATCH_END
 *             : "=&r"(addr) :: "memory");
 */
#ifdef __x86_64__
#define RT_CATCH_BEGIN "movq $8765f, rt_recover_ip(%%rip)\n\t"
#define RT_INSN_ADDR "lea 8764f(%%rip), %0\n\t"
#else
#define RT_CATCH_BEGIN "movl $8765f, rt_recover_ip\n\t"
#define RT_INSN_ADDR "movl $8764f, %0\n\t"
#endif
#define RT_CATCH_END "\n8765:\n\t"
#define catch_asm(...)                                                     \
    ({                                                                     \
        rt_fault_reset();                                                  \
        __asm__ volatile(__VA_ARGS__);                                     \
        rt_recover_ip = 0;                                                 \
        rt_fault.vector;                                                   \
    })

/*
 * Install IDT gate `vec` (0-255): type_attr is the access byte (0x8E
 * interrupt gate DPL 0, 0xEE DPL 3, 0x8F trap gate, bit 7 = P); sel 0
 * means the runtime's code selector. The IDT limit grows to cover vec.
 */
void rt_idt_set_gate(unsigned vec, uintptr_t handler, uint8_t type_attr,
                     uint16_t sel);
void *rt_idt_gate(unsigned vec); /* the raw gate, to corrupt on purpose */

/*
 * A test's own GDT of `entries` rows: rt_gdt_load copies the runtime's
 * RT_GDT_ENTRIES rows to its start (the RT_SEL_* selectors stay valid)
 * and loads it; the test fills the rows after them (before or after the
 * call) with rt_desc: an 8-byte segment or system descriptor from base,
 * 20-bit limit, access byte (P, DPL, S, type) and flags nibble (G, D/B,
 * L, AVL).  64-bit kernels that go to ring 3 use rt_user_init instead.
 */
uint64_t rt_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void rt_gdt_load(uint64_t *gdt, unsigned entries);

/* ---- ring 3 (rt/user64.c, rt/user64.S), 64-bit only ---------------------- */
#ifdef __x86_64__
/*
 * rt_user_init() (called by rt_user_call) loads a larger GDT: the six
 * runtime selectors above, then the rows below, arranged so that
 * SYSCALL/SYSRET and SYSENTER/SYSEXIT work with one base each:
 *   STAR[47:32] = IA32_SYSENTER_CS = RT_SEL_KCODE   (SS = +8)
 *   STAR[63:48] = RT_SEL_UCODE32: SYSRET64 CS = +16, SS = +8
 *   SYSEXIT64: CS = KCODE + 32, SS = KCODE + 40 (SDM Vol. 2B, SYSEXIT)
 * and a 64-bit TSS (RSP0 = the kernel stack of rt_user_call).
 */
#define RT_SEL_KCODE 0x30   /* 64-bit code, DPL 0 */
#define RT_SEL_KDATA 0x38   /* data, DPL 0 */
#define RT_SEL_UCODE32 0x40 /* 32-bit code, DPL 3 */
#define RT_SEL_UDATA 0x48   /* data, DPL 3 */
#define RT_SEL_UCODE64 0x50 /* 64-bit code, DPL 3 */
#define RT_SEL_UDATA2 0x58  /* data, DPL 3 (SYSEXIT's SS) */
#define RT_SEL_TSS 0x60     /* 64-bit TSS, 16 bytes */
#define RT_SEL_SPARE 0x70   /* 0x70..0x88: free for a test (rt_gdt_set) */
#define RT_VEC_USER_EXIT 0x81 /* DPL-3 gate: ring 3 returns to rt_user_call */

/* Code and data a ring-3 function may touch: pages with U=1. */
#define RT_USER_TEXT __attribute__((section(".user_text"), noinline))
#define RT_USER_DATA __attribute__((section(".user_data")))

void rt_user_init(void);
/*
 * Run fn(arg) at CPL 3 (IRETQ to RT_SEL_UCODE64, a user stack, RFLAGS=2),
 * return what it returns. fn must be RT_USER_TEXT. If fn faults, the call
 * ends at once: rt_fault has the details (vector -1 when fn returned).
 */
uint64_t rt_user_call(uint64_t (*fn)(uint64_t), uint64_t arg);
/* Write an 8-byte descriptor (a 16-byte one takes two calls) at sel. */
void rt_gdt_set(uint16_t sel, uint64_t desc);
uint64_t rt_gdt_get(uint16_t sel);
struct __attribute__((packed)) rt_tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iopb;
};
extern struct rt_tss64 rt_tss;
#endif

/* ---- 64-bit paging helpers (rt/paging64.c) ------------------------------ */
#ifdef __x86_64__
/* Zeroed 4 KiB page from a static pool (identity-mapped). */
void *rt_alloc_page(void);
/*
 * Pointer to the paging-structure entry for va at `level` (4 = PML4E,
 * 3 = PDPTE, 2 = PDE, 1 = PTE). Missing tables below are allocated (when
 * create) with P|W|U, A=0. Returns NULL if the walk meets a large page or a
 * missing table without create. Use addresses >= 4 GiB: the low 4 GiB are
 * the runtime's 2 MiB identity map.
 */
uint64_t *rt_pt_entry(uint64_t va, int level, bool create);
/* Map one 4 KiB page: PTE = pa | flags; then INVLPG va. */
void rt_map_4k(uint64_t va, uint64_t pa, uint64_t flags);
#endif

/* ---- multiboot --------------------------------------------------------- */
extern uint32_t rt_boot_magic; /* EAX at entry: 0x2BADB002 */
extern uint32_t rt_boot_info;  /* EBX at entry: multiboot info address */
/* GDTR at entry, before the runtime loads its own GDT */
extern struct rt_gdtr32 {
    uint16_t limit;
    uint32_t base;
} __attribute__((packed)) rt_boot_gdtr;
/* Multiboot Specification 0.6.96, 3.3 "Boot information format" */
struct multiboot_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper; /* KiB, valid if flags bit 0 */
    uint32_t boot_device;
    uint32_t cmdline; /* address of a C string, valid if flags bit 2 */
    uint32_t mods_count, mods_addr; /* valid if flags bit 3 */
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr; /* valid if flags bit 6 */
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name; /* valid if flags bit 9 */
};
struct multiboot_module {
    uint32_t mod_start, mod_end, string, reserved;
};
/* one memory-map entry; `size` does not count itself */
struct multiboot_mmap_entry {
    uint32_t size;
    uint64_t base, length;
    uint32_t type;
} __attribute__((packed));
/* linker-script symbols (rt/link.ld) */
extern char __image_start[], __ro_end[], __bss_start[], __bss_end[], __image_end[];

/*
 * True if the kernel command line (multiboot cmdline, `-append` in QEMU
 * and nest86) has the blank-separated word `word`. Used for
 * "qemu-tcg": tolerate documented QEMU TCG deviations from the SDM
 * (run-qemu.sh passes it; nest86 runs get the strict SDM checks).
 */
bool rt_cmdline_has(const char *word);

/* ---- small utilities --------------------------------------------------- */

/* Compiler barrier: needed when the same memory is reached through two
   linear addresses (an alias mapping) the compiler cannot relate. */
#define barrier() __asm__ volatile("" ::: "memory")

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

#define RT_CR_ACCESSORS(n)                                                 \
    static inline unsigned long read_cr##n(void)                           \
    {                                                                      \
        unsigned long v;                                                   \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                  \
        return v;                                                          \
    }                                                                      \
    static inline void write_cr##n(unsigned long v)                        \
    {                                                                      \
        __asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");           \
    }
RT_CR_ACCESSORS(0)
RT_CR_ACCESSORS(2)
RT_CR_ACCESSORS(3)
RT_CR_ACCESSORS(4)

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
                     "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void invlpg(uintptr_t va)
{
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}
#ifdef __x86_64__
/* CALL the code at 'va' (which returns with RET) and give back its EAX:
 * one call site for every caller, so an emulator meets the same branch
 * each time. */
static __attribute__((noinline, unused)) uint32_t rt_call_code(uint64_t va)
{
    uint64_t r;
    __asm__ volatile("call *%1"
                     : "=a"(r)
                     : "r"(va)
                     : "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
    return (uint32_t)r;
}
#endif

static inline unsigned long read_flags(void)
{
    unsigned long f;
    __asm__ volatile("pushf\n\tpop %0" : "=r"(f));
    return f;
}

#endif
