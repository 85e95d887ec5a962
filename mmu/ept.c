/* mmu/ept.c — the 4- and 5-level EPT walk (SDM Vol. 3C 28.2):
 * translation, EPT violations with their exit qualification (Table 27-7,
 * with mode-based execute control and the advanced information), EPT
 * misconfigurations (28.2.3.1), accessed and dirty flags (28.2.4), and
 * the "suppress #VE" bit that decides whether a violation is
 * convertible (25.5.7.1). */
#include "mmu/ept.h"

#include <string.h>

/* bits 51:MAXPHYADDR, reserved in every EPT entry (28.2.2) */
#define RSVD_HI (((1ull << 52) - 1) & ~((1ull << MMU_MAXPHYADDR) - 1))
#define RSVD_7_3 0xf8ull              /* PML5E, PML4E, non-leaf PDPTE/PDE: bits 7:3 */
#define RSVD_1G  0x3ffff000ull        /* 1 GiB PDPTE: bits 29:12 */
#define RSVD_2M  0x1ff000ull          /* 2 MiB PDE: bits 20:12 */

unsigned ept_access_bits(const struct mmu_gpa_access *a, uint64_t eptp)
{
    switch (a->kind) {
    case MMU_GPA_FINAL:
        return a->type == MMU_READ ? EPT_QUAL_READ
               : a->type == MMU_WRITE ? EPT_QUAL_WRITE : EPT_QUAL_FETCH;
    case MMU_GPA_WALK:
        return (eptp & EPTP_AD) ? EPT_QUAL_READ | EPT_QUAL_WRITE : EPT_QUAL_READ;
    case MMU_GPA_AD:
        return EPT_QUAL_READ | EPT_QUAL_WRITE;
    default:
        return EPT_QUAL_READ;
    }
}

/* The rights a walk collects (28.2.3.2): R, W and X as in the entries
 * (with mode-based execute control X is for supervisor-mode linear
 * addresses), and XU: bit 10 with mode-based execute control, else a
 * copy of X, so that a fetch checks one bit either way. */
#define RIGHT_XU 8u

static unsigned entry_rights(uint64_t e, unsigned mode)
{
    unsigned r = (unsigned)(e & EPT_RWX);
    if ((mode & EPT_MODE_MBEC) ? (e & EPT_XU) != 0 : (e & EPT_X) != 0)
        r |= RIGHT_XU;
    return r;
}

static enum ept_outcome misconfig(struct ept_result *r, const char *why)
{
    r->why = why;
    return EPT_MISCONFIG;
}

/* Bits 2:0 (and 10) and the reserved bits of a present entry at
 * 'level' (4 = PML5E, 3 = PML4E ... 0 = PTE), SDM 28.2.3.1; NULL when
 * it is well formed. */
static const char *entry_problem(uint64_t e, int level, bool leaf, unsigned mode)
{
    static const char *const rsvd_why[5] = {
        "EPT PTE: reserved bits 51:MAXPHYADDR set (SDM 28.2.3.1)",
        "EPT PDE: reserved bits set (7:3 or, for a 2-MByte page, 20:12; 51:MAXPHYADDR) (SDM 28.2.3.1)",
        "EPT PDPTE: reserved bits set (7:3 or, for a 1-GByte page, 29:12; 51:MAXPHYADDR) (SDM 28.2.3.1)",
        "EPT PML4E: reserved bits 7:3 or 51:MAXPHYADDR set (SDM 28.2.3.1)",
        "EPT PML5E: reserved bits 7:3 or 51:MAXPHYADDR set (SDM 28.2.3.1)",
    };
    unsigned rights = entry_rights(e, mode);
    if ((rights & (EPT_R | EPT_W)) == EPT_W)
        return "EPT entry writable but not readable (SDM 28.2.3.1)";
    if (!(rights & (EPT_R | EPT_W)) && !(mode & EPT_MODE_EXEC_ONLY))
        return "EPT entry execute-only, which is not supported (SDM 28.2.3.1)";
    uint64_t rsvd = RSVD_HI;
    if (!leaf)
        rsvd |= RSVD_7_3;
    else if (level == 2)
        rsvd |= RSVD_1G;
    else if (level == 1)
        rsvd |= RSVD_2M;
    if (e & rsvd)
        return rsvd_why[level];
    if (leaf) {
        unsigned mt = (unsigned)(e >> EPT_MT_SHIFT) & 7;
        if (mt == 2 || mt == 3 || mt == 7)
            return "EPT leaf memory type 2, 3 or 7 (reserved) (SDM 28.2.3.1)";
    }
    return NULL;
}

/* Sets A in every entry used and D in the leaf for a write (28.2.4);
 * only entries in RAM are written. */
static void set_flags(struct phys *ph, struct ept_result *r, bool write)
{
    for (int i = 0; i < r->n; i++) {
        uint64_t nv = r->entry[i] | EPT_A;
        if (i == r->n - 1 && write)
            nv |= EPT_D;
        if (nv != r->entry[i] && phys_ram_ptr(ph, r->entry_pa[i]))
            phys_write(ph, r->entry_pa[i], nv, 8);
    }
}

enum ept_outcome ept_translate(struct phys *ph, uint64_t eptp, unsigned mode,
                               const struct mmu_gpa_access *a, struct ept_result *r)
{
    return ept_translate_logged(ph, eptp, mode, a, r, NULL, NULL);
}

/* Table 27-7 for a walk that refused the access: bits 2:0 the access,
 * 5:3 the rights of the translation (R, W, X ANDed), 6 XU ANDed with
 * mode-based execute control, 7 guest-linear address valid, 8 the final
 * translation (else a guest paging-structure access or A/D update), and
 * with the advanced information and bit 8, what guest paging made of the
 * linear address (9 user-mode, 10 read/write, 11 execute-disable). */
static uint32_t violation_qualification(const struct mmu_gpa_access *a, unsigned access,
                                        unsigned perm, unsigned mode)
{
    uint32_t q = access | ((perm & EPT_RWX) << 3);
    if ((mode & EPT_MODE_MBEC) && (perm & RIGHT_XU))
        q |= EPT_QUAL_USER_EXEC;
    if (!a->lin_valid)
        return q;
    q |= EPT_QUAL_LIN_VALID;
    if (a->kind != MMU_GPA_FINAL)
        return q;
    q |= EPT_QUAL_FINAL;
    if (EPT_HAS_ADV_INFO)
        q |= (a->lin_user ? EPT_QUAL_USER_LIN : 0) | (a->lin_rw ? EPT_QUAL_RW_PAGE : 0) |
             (a->lin_xd ? EPT_QUAL_XD_PAGE : 0);
    return q;
}

enum ept_outcome ept_translate_logged(struct phys *ph, uint64_t eptp, unsigned mode,
                                      const struct mmu_gpa_access *a, struct ept_result *r,
                                      ept_dirty_log_fn log, void *log_opaque)
{
    unsigned access = ept_access_bits(a, eptp);
    /* the rights the access needs: a fetch from a user-mode linear
     * address needs XU, any other fetch X (28.2.3.2) */
    unsigned need = access;
    if ((access & EPT_QUAL_FETCH) && a->lin_user)
        need = (need & ~EPT_QUAL_FETCH) | RIGHT_XU;
    uint64_t table = eptp & EPTP_ADDR_MASK;
    unsigned perm = EPT_RWX | RIGHT_XU;
    uint64_t e = 0;
    int level;
    r->n = 0;
    r->why = NULL;
    r->suppress_ve = false;
    for (level = (eptp & EPTP_WALK_MASK) == EPTP_WALK_5 ? 4 : 3;; level--) {
        int shift = 12 + 9 * level;
        uint64_t pa = table | (((a->gpa >> shift) & 0x1ff) << 3);
        /* open bus reads as all-ones, which is a misconfiguration */
        e = phys_ram_ptr(ph, pa) ? phys_read(ph, pa, 8) : ~0ull;
        r->entry_pa[r->n] = pa;
        r->entry[r->n] = e;
        r->n++;
        /* not present (28.2.2; bit 10 counts with mode-based execute
         * control): reserved bits do not matter */
        if (!entry_rights(e, mode & EPT_MODE_MBEC)) {
            perm = 0;
            break;
        }
        bool leaf = level == 0 || ((level == 1 || level == 2) && (e & EPT_PS));
        const char *why = entry_problem(e, level, leaf, mode);
        if (why)
            return misconfig(r, why);
        perm &= entry_rights(e, mode);
        if (leaf)
            break;
        table = e & EPTP_ADDR_MASK;
    }
    if ((perm & need) != need) {
        r->qualification = violation_qualification(a, access, perm, mode);
        /* the entry that decided: the not-present one or the leaf */
        r->suppress_ve = (e & EPT_SUPPRESS_VE) != 0;
        return EPT_VIOLATION;
    }
    uint64_t off = (1ull << (12 + 9 * level)) - 1;
    r->hpa = (e & EPTP_ADDR_MASK & ~off) | (a->gpa & off);
    r->leaf_level = level;
    /* EPT R/W/X line up with MMU_ALLOW_R/W/X; a cached copy serves
     * fetches only with the execute right for this linear address's mode */
    r->allow = (uint8_t)(perm & (EPT_R | EPT_W));
    if (perm & (a->lin_user ? RIGHT_XU : EPT_X))
        r->allow |= MMU_ALLOW_X;
    if (eptp & EPTP_AD) {
        bool write = access & EPT_QUAL_WRITE;
        /* 28.2.6: the page is logged before its dirty flag is set; a
         * full log stops the access with the flag still clear */
        if (write && a->commit && log && !(e & EPT_D) && log(log_opaque, a->gpa & ~0xfffull))
            return EPT_LOG_FULL;
        if (a->commit)
            set_flags(ph, r, write);
        /* the first write must come back here to set the dirty flag */
        if (!(e & EPT_D) && !(write && a->commit))
            r->allow &= (uint8_t)~MMU_ALLOW_W;
    }
    return EPT_OK;
}

int ept_gpa_xlate(void *opaque, const struct mmu_gpa_access *a, uint64_t *hpa, uint8_t *allow,
                  struct mmu_fault *fault)
{
    struct ept_ctx *x = opaque;
    struct ept_result r;
    unsigned mode = (x->exec_only ? EPT_MODE_EXEC_ONLY : 0) | (x->mbec ? EPT_MODE_MBEC : 0);
    enum ept_outcome o = ept_translate_logged(x->phys, x->eptp, mode, a, &r, x->log,
                                              x->log_opaque);
    if (x->observe)
        x->observe(x->observe_opaque, a, o, &r);
    switch (o) {
    case EPT_OK:
        *hpa = r.hpa;
        *allow = r.allow;
        return 0;
    case EPT_LOG_FULL:
        *fault = (struct mmu_fault){.vector = MMU_FAULT_PML_FULL, .gpa = a->gpa};
        return -1;
    case EPT_VIOLATION:
        *fault = (struct mmu_fault){.vector = MMU_FAULT_EPT_VIOLATION,
                                    .error_code = r.qualification,
                                    .address = a->lin_valid ? a->lin : 0,
                                    .gpa = a->gpa, .suppress_ve = r.suppress_ve};
        return -1;
    default:
        x->misconfig = r.why;
        *fault = (struct mmu_fault){.vector = MMU_FAULT_EPT_MISCONFIG, .gpa = a->gpa};
        return -1;
    }
}
