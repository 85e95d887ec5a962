/* mmu/mmu.h — linear-to-physical translation: paging walker and TLB.
 *
 * The paging control registers (CR0, CR3, CR4, EFER, PKRU and the PAE
 * PDPTE registers) live here, because the walker reads them on every
 * TLB miss; the CPU reads and writes them through this struct.
 *
 * The TLB is a direct-mapped software TLB whose entries hold a host
 * pointer addend for RAM pages, so a hit on a load or store is a tag
 * compare, a permission test and an add (mmu_fast_ptr()).  Permissions
 * are precomputed per access kind at fill time, folding in CR0.WP,
 * SMEP, SMAP, NX and PKRU, so the hot path never looks at those bits.
 *
 * EPT hook: when 'gpa_xlate' is non-NULL every guest-physical address
 * the walker produces — paging-structure reads and A/D updates, PAE
 * PDPTE loads and the final address, with paging on or off — is passed
 * through it, told what kind of access it is (mmu/ept.c implements it;
 * vmx/ept.c installs it for a VMX guest with "enable EPT").  It is NULL
 * outside such guests, so ordinary execution pays one predictable
 * branch per TLB miss.
 */
#ifndef NEST86_MMU_MMU_H
#define NEST86_MMU_MMU_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/phys.h"

/* Access kinds; a TLB entry's 'perm' has one bit per kind it allows. */
enum mmu_access_bit {
    MMU_R_USER = 1 << 0,  /* CPL 3 data read */
    MMU_W_USER = 1 << 1,  /* CPL 3 data write */
    MMU_X_USER = 1 << 2,  /* CPL 3 instruction fetch */
    MMU_R_SUP = 1 << 3,   /* supervisor read, RFLAGS.AC = 0 or implicit */
    MMU_W_SUP = 1 << 4,   /* supervisor write, RFLAGS.AC = 0 or implicit */
    MMU_X_SUP = 1 << 5,   /* supervisor fetch */
    MMU_R_SUPAC = 1 << 6, /* supervisor explicit read with RFLAGS.AC = 1 */
    MMU_W_SUPAC = 1 << 7, /* supervisor explicit write with RFLAGS.AC = 1 */
};

enum mmu_access_type { MMU_READ = 0, MMU_WRITE = 1, MMU_FETCH = 2 };

/* Paging-fault error code bits, SDM Vol. 3A 4.7. */
#define PFEC_P    (1u << 0)
#define PFEC_W    (1u << 1)
#define PFEC_U    (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I    (1u << 4)
#define PFEC_PK   (1u << 5)
#define PFEC_SS   (1u << 6)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)

#define CR4_VME        (1ull << 0)
#define CR4_PVI        (1ull << 1)
#define CR4_TSD        (1ull << 2)
#define CR4_DE         (1ull << 3)
#define CR4_PSE        (1ull << 4)
#define CR4_PAE        (1ull << 5)
#define CR4_MCE        (1ull << 6)
#define CR4_PGE        (1ull << 7)
#define CR4_PCE        (1ull << 8)
#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_UMIP       (1ull << 11)
#define CR4_LA57       (1ull << 12)
#define CR4_VMXE       (1ull << 13)
#define CR4_SMXE       (1ull << 14)
#define CR4_FSGSBASE   (1ull << 16)
#define CR4_PCIDE      (1ull << 17)
#define CR4_OSXSAVE    (1ull << 18)
#define CR4_SMEP       (1ull << 20)
#define CR4_SMAP       (1ull << 21)
#define CR4_PKE        (1ull << 22)
#define CR4_CET        (1ull << 23)

#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Physical-address width of the emulated CPU (CPUID 0x80000008 EAX[7:0]);
 * entry bits from here to 51 are reserved (SDM Vol. 3A 4.5). */
#define MMU_MAXPHYADDR 40

/* Paging-structure entry bits, SDM Vol. 3A Tables 4-4 to 4-20 */
#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_PS  (1ull << 7)
#define PTE_G   (1ull << 8)
#define PTE_PAT_LARGE (1ull << 12)
#define PTE_XD  (1ull << 63)
/* PAE PDPTE (SDM 4.4.1): bits 2:1, 8:5 and 63:MAXPHYADDR are reserved */
#define MMU_PDPTE_RSVD (0x6ull | 0x1e0ull | ~((1ull << MMU_MAXPHYADDR) - 1))

/* 65,536 direct-mapped entries: 256 MiB of 4-KiB pages, so a guest
 * whose working set is a few hundred megabytes (a large heap, the page
 * cache) walks its page tables once per page rather than once per
 * access; at 4,096 entries a sieve over 100 MB walked once every 43
 * instructions.  The architecture lets a TLB be as large as we like. */
#define MMU_TLB_BITS 16
#define MMU_TLB_SIZE (1u << MMU_TLB_BITS)
/* Slots filled since the last flush are remembered (up to this many), so
 * a flush touches those slots instead of the whole TLB: VM entries and
 * exits without VPID, and CR3 loads, flush often and fill little.  Past
 * this many fills a flush scans every slot once; each fill was a page
 * walk, so that scan costs at most MMU_TLB_SIZE / MMU_TLB_FILLS (4) slot
 * visits per walk.  The list also keeps what survives a flush (global
 * pages, other PCIDs): the Linux boot keeps 4,000-16,000 such entries,
 * and with a list of 4,096 its 8,800 CR3 loads scanned the whole TLB
 * 600 times. */
#define MMU_TLB_FILLS 16384u
/* What one saved context (mmu_tlb_switch) holds at most */
#define MMU_TLB_TRACK 512u
/* The fill lists, one per class of entry, so that a CR3 load with PCIDs
 * visits its own PCID's entries only: Linux's boot flushed one PCID
 * 8,700 times while thousands of other PCIDs' entries stayed.  Eight
 * lists hold non-global entries by PCID (Linux's PCIDs are 1-6, and
 * 2049-2054 for PTI's user halves), the ninth the global ones. */
#define MMU_TLB_LISTS 9u
/* Address spaces whose epoch a MOV CR3 can resume (struct mmu spaces):
 * Linux's PCIDs 1-6, and 2049-2054 fold onto them */
#define MMU_SPACES 8u
static inline unsigned mmu_space_of(uint64_t pcid)
{
    return (unsigned)(pcid ^ (pcid >> 9)) & (MMU_SPACES - 1);
}
static inline unsigned mmu_tlb_list_of(uint64_t tag, bool global)
{
    unsigned pcid = (unsigned)(tag & 0xfff);
    return global ? 8 : (pcid ^ (pcid >> 9)) & 7;
}

struct mmu_tlb_entry {
    uint64_t tag;       /* linear page | PCID */
    uintptr_t addend;   /* host address - linear address (RAM pages) */
    uint64_t pa_page;   /* physical page address */
    uint8_t perm;       /* enum mmu_access_bit set; 0 = empty entry */
    bool global;
    bool ram;           /* false: MMIO/unbacked, never a fast hit */
    uint8_t level;      /* page size: 0 = 4K, 1 = 2M, 2 = 1G, 3 = 4M */
};

/* Faults the EPT hook reports, outside the exception vectors 0-31: the
 * CPU turns them into EPT-violation and EPT-misconfiguration VM exits
 * (SDM Vol. 3C 28.2.3) instead of delivering them. */
#define MMU_FAULT_EPT_VIOLATION 0x80
#define MMU_FAULT_EPT_MISCONFIG 0x81
#define MMU_FAULT_PML_FULL      0x82 /* the page-modification log is full */

struct mmu_fault {
    uint8_t vector;     /* 14 (#PF), 13 (#GP: reserved PDPTE bits), MMU_FAULT_EPT_* */
    uint32_t error_code; /* #PF error code; the EPT-violation exit qualification */
    uint64_t address;   /* CR2 value; for EPT, the guest-linear address (when
                           qualification bit 7 says it is valid) */
    uint64_t gpa;       /* EPT faults: the guest-physical address */
    bool suppress_ve;   /* EPT violations: bit 63 of the entry that decided
                           it (SDM Vol. 3C 25.5.7.1, "convertible") */
};

/* What a guest-physical address handed to the EPT hook is for (SDM
 * Vol. 3C 28.2.3.2 and Table 27-7, bits 0-2, 7 and 8). */
enum mmu_gpa_kind {
    MMU_GPA_FINAL, /* the translation of a linear address: the access itself */
    MMU_GPA_WALK,  /* reading a guest paging-structure entry */
    MMU_GPA_AD,    /* setting A/D flags in a guest paging-structure entry */
    MMU_GPA_PDPTE, /* loading the PAE PDPTE registers (MOV to CR0/CR3/CR4):
                      a read with no linear address */
};

struct mmu_gpa_access {
    uint64_t gpa;
    uint64_t lin;               /* the linear address being translated */
    enum mmu_access_type type;  /* MMU_GPA_FINAL: the access; else unused */
    enum mmu_gpa_kind kind;
    bool lin_valid;             /* false only for MMU_GPA_PDPTE */
    bool commit;                /* false: the debugger's look, no A/D updates */
    /* MMU_GPA_FINAL: what guest paging made of the linear address (SDM
     * Vol. 3A 4.6), for mode-based execute control and the advanced
     * EPT-violation information: a user-mode address (U/S 1 in every
     * entry), a read/write page (R/W 1 in every entry), an
     * execute-disable page.  With paging off: user-mode, read/write,
     * executable (SDM Vol. 3C Table 27-7, bits 9-11). */
    bool lin_user, lin_rw, lin_xd;
};

/* What a translation the EPT hook returns may be cached for */
#define MMU_ALLOW_R (1u << MMU_READ)
#define MMU_ALLOW_W (1u << MMU_WRITE)
#define MMU_ALLOW_X (1u << MMU_FETCH)

/* One level of an explained walk (for the debugger's `walk`). */
struct mmu_walk_step {
    const char *name;   /* "PML5E", "PML4E", "PDPTE", "PDE", "PTE" */
    uint64_t entry_pa;  /* guest-physical address of the entry */
    uint64_t value;     /* raw entry */
    bool leaf;
};

struct mmu_walk_explain {
    int nsteps;
    struct mmu_walk_step step[5];
    bool ok;
    uint64_t pa;              /* final physical address when ok */
    struct mmu_fault fault;   /* the fault it would raise when !ok */
};

struct mmu;
struct mmu_tlb_entry;

/* The TLB contents of an address-space context that is not running
 * (VMX: the root's, VPID 0, while a guest with a VPID runs; the last
 * such guest's while the root runs), kept so that switching back does
 * not have to refill them (mmu_tlb_switch). */
struct mmu_tlb_saved {
    bool valid;
    uint64_t key;
    unsigned n;
    uint16_t slot[MMU_TLB_TRACK];
    struct mmu_tlb_entry_saved {
        uint64_t tag;
        uintptr_t addend;
        uint64_t pa_page;
        uint8_t perm, level;
        bool global, ram;
        uint8_t list; /* the fill list it was on (mmu_tlb_list_of) */
    } e[MMU_TLB_TRACK];
};

/* Every TLB entry's tag is a linear address that is canonical under
 * the current CR4.LA57: entries are filled only for addresses that
 * passed the canonical check (or 32-bit ones, canonical either way),
 * CR4.LA57 cannot change in IA-32e mode (MOV to CR4 raises #GP), a
 * context restored at a VM entry or exit drops entries the loaded
 * CR4.LA57 makes non-canonical (mmu_tlb_switch), and a control
 * register set from the debugger flushes everything.  So a non-canonical address never
 * hits, and the fast paths (cpu/mem.h mem_fast_ptr) need no canonical
 * check of their own. */
struct mmu {
    struct phys *phys;
    /* paging control state: the architectural registers themselves */
    uint64_t cr0, cr3, cr4, efer;
    uint32_t pkru;
    uint64_t pdpte[4];        /* PAE PDPTE registers (loaded on MOV CR3) */
    uint16_t pcid;            /* CR3[11:0] when CR4.PCIDE, else 0 */

    struct mmu_tlb_entry tlb[MMU_TLB_SIZE];
    /* Every valid entry is listed in its class's list (mmu_tlb_list_of),
     * unless that list overflowed (nfilled > MMU_TLB_FILLS).  A list may
     * also name slots since dropped or refilled with another class. */
    uint16_t filled[MMU_TLB_LISTS][MMU_TLB_FILLS];
    unsigned nfilled[MMU_TLB_LISTS];
    /* bit l: list l is not empty / has overflowed; a VM entry or exit
     * visits every list, and must not pay for the empty ones */
    uint16_t lists_used, lists_over;
    /* [0]: the VMX root's (VPID 0) while a guest runs; [1]: one guest's */
    struct mmu_tlb_saved saved[2];

    /* EPT hook (NULL = guest-physical is host-physical).  Returns 0 with
     * the host-physical address and, in *allow, the MMU_ALLOW_* accesses
     * a cached (TLB) copy of the final translation may serve, or -1 with
     * *fault filled. */
    int (*gpa_xlate)(void *opaque, const struct mmu_gpa_access *a, uint64_t *hpa,
                     uint8_t *allow, struct mmu_fault *fault);
    void *gpa_opaque;

    /* A physical page no TLB entry may serve from the fast path, so
     * that every access to it reaches the CPU's slow path: VMX's
     * APIC-access page while a guest with "virtualize APIC accesses"
     * runs (SDM Vol. 3C 29.4).  Set through mmu_set_slow_page(). */
    bool slow_page_on;
    uint64_t slow_page;

    uint8_t large_levels; /* 1 << level for each large-page size (enum: struct
                             mmu_tlb_entry's level) some entry caches a piece of */
    /* Advanced by MMU_EPOCH_STEP whenever cached translations may stop
     * being the ones in use: every invalidation here, and (by the CPU)
     * every CR3 load and mode change.  Consumers that remember a
     * translation (the CPU's block links) trust it only while the epoch
     * is unchanged.  Its low two bits are the CPL (cpu_update_mode()
     * keeps them), so a link made in one ring is not followed in another,
     * and is again back in the first (cpu/icache.h icache_stamp). */
    uint64_t epoch;
    /* The same count for translations of global pages: it moves with
     * the epoch except where only non-global translations may change —
     * a CR3 load, or a flush that keeps global entries (SDM 4.10.2.4,
     * 4.10.4.1).  Links into global code (the kernel's, switching
     * address spaces for every text_poke and every process switch)
     * are revived under it after such an event (cpu/icache.h).  Its
     * low two bits stay zero. */
    uint64_t gepoch;
    /* The last epoch value handed out (its CPL bits zero).  Epochs are
     * always new values from this count, never the current one plus a
     * step: a MOV CR3 back to an address space resumes the epoch that
     * space had (mmu_resume_space), so the current epoch is not always
     * the newest. */
    uint64_t epoch_seq;
    /* The epochs of address spaces left by a MOV CR3 under CR4.PCIDE,
     * one per PCID modulo MMU_SPACES (Linux switches among six PCIDs):
     * a no-flush MOV CR3 back to the same CR3 value, with nothing since
     * invalidating that PCID's translations (a flush of the PCID or of
     * all non-global entries clears the record; any event that moves
     * the global epoch outdates it), finds every translation of that
     * PCID the TLB may use as it was, so the links made under that
     * epoch hold again.  epoch 0: no record. */
    struct mmu_space {
        uint64_t cr3, epoch, gepoch;
    } spaces[MMU_SPACES];
    uint64_t stat_walks;   /* TLB misses that walked */
    uint64_t stat_resumes; /* MOV CR3s that resumed a space's epoch */
};

#define MMU_EPOCH_STEP 4

/* The epoch becomes a value never used before (keeping the CPL bits) */
static inline void mmu_fresh_epoch(struct mmu *m)
{
    m->epoch_seq += MMU_EPOCH_STEP;
    m->epoch = m->epoch_seq | (m->epoch & (MMU_EPOCH_STEP - 1));
}

/* A new epoch for everything cached: global translations included.
 * The global epoch takes its values from the same count, so it too
 * never comes back to a value it had unless a record brings it back
 * (cpu_links_resume_root()). */
static inline void mmu_new_epoch(struct mmu *m)
{
    mmu_fresh_epoch(m);
    m->gepoch = m->epoch_seq;
}

/* A new epoch in which only non-global translations may differ: a new
 * address space, or a flush that keeps global entries */
static inline void mmu_new_space(struct mmu *m)
{
    mmu_fresh_epoch(m);
}

/* MOV CR3 under CR4.PCIDE, from the current CR3 to 'cr3' (PCID in bits
 * 11:0, bit 63 clear): records the space being left, then resumes the
 * epoch recorded for 'cr3' when 'noflush' and the record still holds
 * (SDM 4.10.4.1: a no-flush load invalidates nothing), else takes a
 * new one.  Sets CR3 and the PCID; the caller does any flush. */
void mmu_switch_space(struct mmu *m, uint64_t cr3, bool noflush);

/* The slot that caches 'lin': its byte offset in the TLB comes from
 * one shift and one mask of the address (an index scaled by the entry
 * size would take a shift, a zero-extension, a move and a second
 * shift, which GCC then repeats for each field it reads). */
#define MMU_TLB_ENTRY_SHIFT 5
_Static_assert(sizeof(struct mmu_tlb_entry) == 1u << MMU_TLB_ENTRY_SHIFT,
               "a TLB entry's size is a power of two");
static inline __attribute__((always_inline)) const struct mmu_tlb_entry *
mmu_tlb_slot(const struct mmu *m, uint64_t lin)
{
    uintptr_t off = (uintptr_t)(lin >> (12 - MMU_TLB_ENTRY_SHIFT)) &
                    ((uintptr_t)(MMU_TLB_SIZE - 1) << MMU_TLB_ENTRY_SHIFT);
    __asm__("" : "+r"(off)); /* kept as computed: GCC would go back to the index */
    return (const struct mmu_tlb_entry *)((const char *)m->tlb + off);
}

/* Whether the TLB holds a global translation for 'lin' under the
 * current PCID (a global entry met under another is retagged on its
 * next use: false until then) */
static inline bool mmu_tlb_global(const struct mmu *m, uint64_t lin)
{
    const struct mmu_tlb_entry *e = mmu_tlb_slot(m, lin);
    return e->perm && e->global && e->tag == ((lin & ~0xfffull) | m->pcid);
}

void mmu_init(struct mmu *m, struct phys *phys);

/* Records that a TLB slot became valid (inline: every page walk and
 * every entry a VM entry or exit brings back passes here) */
static inline void mmu_tlb_note_fill(struct mmu *m, const struct mmu_tlb_entry *e)
{
    unsigned l = mmu_tlb_list_of(e->tag, e->global), n = m->nfilled[l];
    if (n < MMU_TLB_FILLS)
        m->filled[l][n] = (uint16_t)(e - m->tlb);
    if (n <= MMU_TLB_FILLS)
        m->nfilled[l] = n + 1;
    m->lists_used |= (uint16_t)(1u << l);
    if (n == MMU_TLB_FILLS)
        m->lists_over |= (uint16_t)(1u << l);
}

/* TLB invalidation, SDM Vol. 3A 4.10.4. */
void mmu_flush_all(struct mmu *m);            /* including global entries, and saved contexts */
/* Leaves the current context (saving its translations as context
 * 'save' with 'save_key') and enters context 'load': its translations
 * come back if they were saved under 'load_key'.  Used by VM entries and
 * exits with VPIDs (SDM 28.3.3.3: mappings tagged by VPID and EP4TA
 * survive them). */
void mmu_tlb_switch(struct mmu *m, int save, uint64_t save_key, int load, uint64_t load_key);
void mmu_tlb_drop_saved(struct mmu *m, int which); /* INVVPID, INVEPT */
void mmu_flush_nonglobal(struct mmu *m);      /* MOV CR3 without no-flush */
void mmu_flush_pcid(struct mmu *m, uint16_t pcid, bool keep_global);
void mmu_flush_page(struct mmu *m, uint64_t lin); /* INVLPG: current PCID and globals */
void mmu_flush_page_pcid(struct mmu *m, uint64_t lin, uint16_t pcid);

/* Makes physical page 'pa' (or none: MMU_NO_SLOW_PAGE) the slow page,
 * dropping the TLB entries that map it. */
#define MMU_NO_SLOW_PAGE (~0ull)
void mmu_set_slow_page(struct mmu *m, uint64_t pa);
static inline bool mmu_is_slow_page(const struct mmu *m, uint64_t pa)
{
    return m->slow_page_on && (pa & ~0xfffull) == m->slow_page;
}

/* A page became code (phys_mark_code): no fast-path writes to it. */
void mmu_drop_writes_to(struct mmu *m, const uint8_t *host_page);

/* Loads the PAE PDPTE registers from CR3 (SDM 4.4.1).  Returns 0, or -1
 * when a PDPTE has reserved bits set (the caller raises #GP(0)) or the
 * EPT hook failed; mmu_load_pdptes_fault() says which in *f (vector 13
 * or MMU_FAULT_EPT_*). */
int mmu_load_pdptes(struct mmu *m);
int mmu_load_pdptes_fault(struct mmu *m, struct mmu_fault *f);

/* Translate with A/D updates and TLB fill.  'user' is CPL 3 (and not an
 * implicit supervisor access); 'ac' is RFLAGS.AC for SMAP.  Returns 0
 * with *pa, or -1 with *fault filled (nothing is cached then). */
int mmu_translate(struct mmu *m, uint64_t lin, enum mmu_access_type type, bool user,
                  bool ac, uint64_t *pa, struct mmu_fault *fault);

/* The walk as the debugger sees it: no A/D updates, no TLB fill. */
void mmu_walk_explain(struct mmu *m, uint64_t lin, enum mmu_access_type type, bool user,
                      struct mmu_walk_explain *out);

/* The bit a TLB entry needs for an access (see enum mmu_access_bit). */
static inline uint8_t mmu_need_bit(enum mmu_access_type type, bool user, bool ac)
{
    if (user)
        return (uint8_t)(MMU_R_USER << type);
    if (type == MMU_FETCH)
        return MMU_X_SUP;
    return (uint8_t)((ac ? MMU_R_SUPAC : MMU_R_SUP) << type);
}

/* The hot path: true, with the host pointer in *host, for an access of
 * 'size' bytes at 'lin' if the TLB holds a RAM translation that allows
 * it and the access stays inside the page; otherwise false (take the
 * slow path).  Callers branch on the result, never on the pointer. */
static inline bool mmu_fast_hit(struct mmu *m, uint64_t lin, unsigned size, uint8_t need,
                                uint8_t **host)
{
    /* The tag is compared with the page of the access's last byte: for
     * an access that crosses into the next page it differs from every
     * tag the slot (indexed by the first byte's page) can hold, so one
     * compare checks the page too. */
    const struct mmu_tlb_entry *e = mmu_tlb_slot(m, lin);
    if (e->tag == (((lin + size - 1) & ~0xfffull) | m->pcid) && (e->perm & need)) {
        *host = (uint8_t *)(e->addend + (uintptr_t)lin);
        return true;
    }
    return false;
}

/* The same as a pointer, NULL on a miss. */
static inline uint8_t *mmu_fast_ptr(struct mmu *m, uint64_t lin, unsigned size, uint8_t need)
{
    uint8_t *p;
    if (!mmu_fast_hit(m, lin, size, need, &p))
        return 0;
    if (!p)
        __builtin_unreachable(); /* RAM is never at host address 0 */
    return p;
}

#endif
