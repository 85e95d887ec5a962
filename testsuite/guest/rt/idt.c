/*
 * IDT for the 32 exception vectors and the C side of exception handling:
 * record the fault, then resume where the test asked (rt_recover_ip or
 * rt_try), or report an unexpected exception and exit.
 */
#include "rt.h"

/* The frame built by rt/isr.S, lowest address first. */
struct rt_frame {
#ifdef __x86_64__
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t di, si, bp, bx, dx, cx, ax;
    uint64_t vector, error;
    uint64_t ip, cs, flags, sp, ss; /* pushed by the CPU (SDM 6.14.2) */
#else
    uint32_t di, si, bp, sp_unused, bx, dx, cx, ax; /* PUSHA order */
    uint32_t vector, error;
    uint32_t ip, cs, flags; /* same privilege: no SS:ESP (SDM 6.12.1) */
#endif
};

extern const uintptr_t rt_isr_table[32];
extern char rt_try_resume[];
#ifdef __x86_64__
extern char rt_user_fault_resume[];
extern uint64_t rt_user_ksp;
#endif
volatile struct rt_fault rt_fault = { .vector = -1 };
volatile uintptr_t rt_recover_ip;
uintptr_t rt_try_sp;  /* non-zero while rt_try() runs its function */
int rt_try_vector;

void rt_exception(struct rt_frame *f);

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
    "#DF", "CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "(15)",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "(22)", "(23)",
    "(24)", "(25)", "(26)", "(27)", "#HV", "#VC", "#SX", "(31)",
};

/*
 * Interrupt gates, DPL 0 (SDM Vol. 3A, 6.11 Figure 6-2 and 6.14.1 Figure
 * 6-8): an interrupt gate clears IF, so no external interrupt can land on
 * top of a recorded fault.
 */
#ifdef __x86_64__
struct gate { uint16_t off0, sel; uint8_t ist, type; uint16_t off1;
              uint32_t off2, zero; };
#define GATE_SEL RT_SEL_CODE64
#else
struct gate { uint16_t off0, sel; uint8_t zero, type; uint16_t off1; };
#define GATE_SEL RT_SEL_CODE32
#endif
/* 256 slots; the limit covers only the vectors installed so far (the
   exceptions at first), so an unset vector beyond them is a #GP. */
static struct gate idt[256] __attribute__((aligned(16)));
static unsigned idt_vectors = 32;

static void idt_load(void)
{
    struct __attribute__((packed)) {
        uint16_t limit;
        uintptr_t base;
    } desc = { (uint16_t)(idt_vectors * sizeof(struct gate) - 1),
               (uintptr_t)idt };
    __asm__ volatile("lidt %0" ::"m"(desc));
}

void rt_idt_set_gate(unsigned vec, uintptr_t handler, uint8_t type_attr,
                     uint16_t sel)
{
    struct gate *g = &idt[vec & 255];
    memset(g, 0, sizeof(*g));
    g->off0 = (uint16_t)handler;
    g->sel = sel ? sel : GATE_SEL;
    g->type = type_attr;
    g->off1 = (uint16_t)(handler >> 16);
#ifdef __x86_64__
    g->off2 = (uint32_t)((uint64_t)handler >> 32);
#endif
    if (vec >= idt_vectors)
        idt_vectors = vec + 1;
    idt_load();
}

void *rt_idt_gate(unsigned vec)
{
    return &idt[vec & 255];
}

void rt_idt_init(void)
{
    for (unsigned v = 0; v < 32; v++)
        rt_idt_set_gate(v, rt_isr_table[v], 0x8E, 0); /* P, DPL 0, int gate */
}

void rt_fault_reset(void)
{
    rt_fault.vector = -1;
    rt_fault.error = 0;
    rt_fault.ip = 0;
    rt_fault.cr2 = 0;
    rt_fault.cs = 0;
    rt_fault.flags = 0;
    rt_recover_ip = 0;
}

void rt_exception(struct rt_frame *f)
{
    rt_fault.vector = (int)f->vector;
    rt_fault.error = f->error;
    rt_fault.ip = f->ip;
    rt_fault.cr2 = read_cr2();
    rt_fault.cs = (uint16_t)f->cs;
    rt_fault.flags = f->flags;
    rt_fault.count++;

#ifdef __x86_64__
    /* A fault in ring 3 during rt_user_call() ends the call. */
    if ((f->cs & 3) && rt_user_ksp) {
        f->ip = (uintptr_t)rt_user_fault_resume;
        f->cs = RT_SEL_CODE64;
        f->ss = RT_SEL_DATA;
        f->sp = rt_user_ksp;
        return;
    }
#endif
    if (rt_recover_ip) {
        f->ip = rt_recover_ip;
        rt_recover_ip = 0;
        return;
    }
    if (rt_try_sp) {
        rt_try_vector = (int)f->vector;
        f->ip = (uintptr_t)rt_try_resume;
#ifdef __x86_64__
        f->cs = RT_SEL_CODE64; /* the fault may have come from compat mode */
#else
        f->cs = RT_SEL_CODE32;
#endif
        return;
    }
    rt_printf("FAIL unexpected exception %s (vector %u) error=0x%llx "
              "ip=0x%llx cs=0x%x cr2=0x%llx\n",
              vector_names[f->vector & 31], (unsigned)f->vector,
              (unsigned long long)f->error, (unsigned long long)f->ip,
              (unsigned)f->cs, (unsigned long long)rt_fault.cr2);
    rt_exit(RT_EXIT_EXCEPTION);
}
