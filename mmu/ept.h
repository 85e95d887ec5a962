/* mmu/ept.h — the EPT walk: guest-physical to host-physical through the
 * extended page tables a VMM built in RAM (SDM Vol. 3C 28.2).
 *
 * Pure: it knows the EPTP and what the emulated processor supports, and
 * reports what the SDM says about one access — a translation, an EPT
 * violation with its exit qualification (Table 27-7), or an EPT
 * misconfiguration with its cause.  What happens then (a VM exit) is
 * vmx/ept.c's business.
 *
 * ept_gpa_xlate() is the MMU's EPT hook (struct mmu.gpa_xlate, with a
 * struct ept_ctx as its opaque pointer): the paging walker calls it for
 * every guest-physical address it uses, saying whether it is a guest
 * paging-structure read, an A/D update, a PDPTE load or the final
 * address of the access.
 */
#ifndef NEST86_MMU_EPT_H
#define NEST86_MMU_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "mmu/mmu.h"

/* EPTP, SDM Vol. 3C 24.6.11 */
#define EPTP_MT_MASK   0x7ull          /* EPT paging-structure memory type */
#define EPTP_MT_UC     0ull
#define EPTP_MT_WB     6ull
#define EPTP_WALK_MASK (0x7ull << 3)   /* page-walk length minus 1 */
#define EPTP_WALK_4    (3ull << 3)
#define EPTP_WALK_5    (4ull << 3)
#define EPTP_AD        (1ull << 6)     /* accessed and dirty flags */
#define EPTP_ADDR_MASK (((1ull << MMU_MAXPHYADDR) - 1) & ~0xfffull)

/* EPT paging-structure entries, SDM Vol. 3C Tables 28-1 to 28-6 */
#define EPT_R        (1ull << 0)
#define EPT_W        (1ull << 1)
#define EPT_X        (1ull << 2)
#define EPT_RWX      0x7ull
#define EPT_MT_SHIFT 3                 /* leaf memory type, bits 5:3 */
#define EPT_IPAT     (1ull << 6)
#define EPT_PS       (1ull << 7)       /* PDPTE/PDE: maps a 1 GiB / 2 MiB page */
#define EPT_A        (1ull << 8)
#define EPT_D        (1ull << 9)
#define EPT_XU       (1ull << 10)      /* mode-based execute control: execute
                                          for user-mode linear addresses */
#define EPT_SUPPRESS_VE (1ull << 63)   /* leaf or not-present entry: an EPT
                                          violation it decides is not
                                          convertible to #VE (25.5.7.1) */

/* EPT-violation exit qualification, SDM Vol. 3C Table 27-7 */
#define EPT_QUAL_READ      (1u << 0)  /* the access was a data read */
#define EPT_QUAL_WRITE     (1u << 1)  /* ... a data write */
#define EPT_QUAL_FETCH     (1u << 2)  /* ... an instruction fetch */
#define EPT_QUAL_READABLE  (1u << 3)  /* AND of bit 0 of the entries walked */
#define EPT_QUAL_WRITABLE  (1u << 4)  /* AND of bit 1 */
#define EPT_QUAL_EXECUTABLE (1u << 5) /* AND of bit 2 (with mode-based execute
                                         control: for supervisor-mode addresses) */
#define EPT_QUAL_USER_EXEC (1u << 6)  /* mode-based execute control only: AND of bit 10 */
#define EPT_QUAL_LIN_VALID (1u << 7)  /* guest-linear address field valid */
#define EPT_QUAL_FINAL     (1u << 8)  /* the translation of a linear address,
                                         not a guest paging-structure access */
/* advanced information (IA32_VMX_EPT_VPID_CAP bit 22), with bits 7 and 8:
 * what guest paging made of the linear address */
#define EPT_QUAL_USER_LIN  (1u << 9)  /* a user-mode linear address */
#define EPT_QUAL_RW_PAGE   (1u << 10) /* a read/write page */
#define EPT_QUAL_XD_PAGE   (1u << 11) /* an execute-disable page */
#define EPT_QUAL_NMI_UNBLOCK (1u << 12) /* set by vmx/ept.c: NMI unblocking due to IRET */

/* What this walker implements; IA32_VMX_EPT_VPID_CAP (vmx/caps.c) and
 * the VM-entry checks on the EPTP (vmx/ept.c) are derived from these. */
#define EPT_HAS_EXEC_ONLY 1 /* entries with bits 2:0 = 100b */
#define EPT_HAS_2M        1
#define EPT_HAS_1G        1
#define EPT_HAS_AD        1 /* EPTP bit 6 */
#define EPT_HAS_5LEVEL    1 /* EPTP page-walk length 5 */
#define EPT_HAS_ADV_INFO  1 /* exit qualification bits 9-11 */

/* How a walk reads the entries: the processor's and the VMCS's choices */
#define EPT_MODE_EXEC_ONLY 1u /* execute-only entries allowed */
#define EPT_MODE_MBEC      2u /* "mode-based execute control for EPT" is 1 */

enum ept_outcome { EPT_OK, EPT_VIOLATION, EPT_MISCONFIG, EPT_LOG_FULL };

/* Called before a walk sets a leaf's dirty flag (28.2.6, page-
 * modification logging) with the guest-physical page: 0 when it logged
 * the page, non-zero when the log is full — the access then does not
 * happen and the dirty flag stays clear (EPT_LOG_FULL). */
typedef int (*ept_dirty_log_fn)(void *opaque, uint64_t gpa_page);

/* One walk's answer. */
struct ept_result {
    uint64_t hpa;           /* EPT_OK: the host-physical address */
    uint8_t allow;          /* EPT_OK: MMU_ALLOW_* a cached copy may serve: the
                               entries' R/W/X ANDed, minus W while the leaf's
                               dirty flag is clear with A/D on */
    uint32_t qualification; /* EPT_VIOLATION: Table 27-7 bits 0-11 */
    bool suppress_ve;       /* EPT_VIOLATION: bit 63 of the not-present entry
                               or of the leaf (25.5.7.1) */
    const char *why;        /* EPT_MISCONFIG: the cause, for logs */
    int n;                  /* entries read, the top level's (PML5E or PML4E) first */
    uint64_t entry_pa[5];
    uint64_t entry[5];      /* as read (before any A/D update) */
    int leaf_level;         /* EPT_OK: 0 PTE (4 KiB), 1 PDE (2 MiB), 2 PDPTE (1 GiB) */
};

/* The access bits (Table 27-7 bits 2:0) an access counts as for EPT:
 * guest paging-structure reads are reads, or read+write with EPTP bit 6
 * (28.2.3.2, 28.2.4); A/D updates are read+write (a locked update);
 * PDPTE loads are reads, whatever EPTP bit 6 says. */
unsigned ept_access_bits(const struct mmu_gpa_access *a, uint64_t eptp);

/* Translates a->gpa through the EPT at 'eptp' (a 4- or 5-level EPTP,
 * checked at VM entry); 'mode' is EPT_MODE_* bits.  Entries are read
 * from RAM only (anything else reads as all-ones: a misconfiguration);
 * with EPTP bit 6 and a->commit, a successful walk sets the accessed
 * flag of every entry used and the dirty flag of the leaf for a write
 * (28.2.4), in place in RAM. */
enum ept_outcome ept_translate(struct phys *ph, uint64_t eptp, unsigned mode,
                               const struct mmu_gpa_access *a, struct ept_result *r);
/* The same, with a dirty log (NULL: none) */
enum ept_outcome ept_translate_logged(struct phys *ph, uint64_t eptp, unsigned mode,
                                      const struct mmu_gpa_access *a, struct ept_result *r,
                                      ept_dirty_log_fn log, void *log_opaque);

/* An observer of every translation the MMU hook makes (the debugger's
 * `ept step`): the access, the outcome and the walk as it read the
 * entries (before the A/D updates a committed access made). */
typedef void (*ept_observe_fn)(void *opaque, const struct mmu_gpa_access *a,
                               enum ept_outcome o, const struct ept_result *r);

/* The MMU hook: 'opaque' is a struct ept_ctx. */
struct ept_ctx {
    struct phys *phys;
    uint64_t eptp;
    bool exec_only;         /* execute-only entries allowed */
    bool mbec;              /* mode-based execute control for EPT */
    const char *misconfig;  /* the cause of the last misconfiguration */
    ept_dirty_log_fn log;   /* page-modification logging, or NULL */
    void *log_opaque;
    ept_observe_fn observe; /* or NULL */
    void *observe_opaque;
};
int ept_gpa_xlate(void *opaque, const struct mmu_gpa_access *a, uint64_t *hpa, uint8_t *allow,
                  struct mmu_fault *fault);

#endif
