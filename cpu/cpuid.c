/* cpu/cpuid.c — CPUID for the one CPU model nest86 emulates, generated
 * from cpu/features.def, and the -cpu feature switches. */
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_internal.h"
#include "cpu/cpuid.h"
#include "cpu/simd.h"

struct feature {
    const char *name;
    uint32_t leaf;
    uint8_t reg, bit;
};

static const struct feature features[] = {
#define FEAT(name, leaf, reg, bit) {#name, leaf, reg, bit},
#include "cpu/features.def"
#undef FEAT
};
#define NFEATURES (sizeof(features) / sizeof(features[0]))

/* The model: family 6, model 0x55, stepping 7 (a server-class Intel
 * part); the brand string says what it really is. */
#define CPUID_SIGNATURE 0x00050657u
#define CPUID_MAX_BASIC 0xdu          /* CPUID.0:EAX */
#define CPUID_MAX_EXT   0x80000008u   /* CPUID.80000000H:EAX */
static const char brand[48] = "nest86 virtual x86-64 CPU";

static void feature_words(const struct cpu *c, uint32_t leaf, uint32_t out[4])
{
    for (unsigned k = 0; k < NFEATURES; k++)
        if (features[k].leaf == leaf && !((c->feat_disabled >> k) & 1))
            out[features[k].reg] |= 1u << features[k].bit;
}

bool cpu_host_has_feature(enum cpu_feature f)
{
    const struct feature *x = &features[f];
    unsigned r[4];
    /* leaf 0xd rows are sub-leaf 1 (features.def), every other sub-leaf 0 */
    if (!__get_cpuid_count(x->leaf, x->leaf == 0xd, &r[0], &r[1], &r[2], &r[3]))
        return false;
    return (r[x->reg] >> x->bit) & 1;
}

static void put_str(uint32_t *dst, const char *s)
{
    memcpy(dst, s, 16);
}

void cpu_cpuid(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    memset(out, 0, 16);
    switch (leaf) {
    case 0:
        out[0] = CPUID_MAX_BASIC;
        memcpy(&out[1], "Genu", 4); /* EBX, EDX, ECX spell GenuineIntel */
        memcpy(&out[3], "ineI", 4);
        memcpy(&out[2], "ntel", 4);
        return;
    case 1:
        out[0] = CPUID_SIGNATURE;
        out[1] = (8u << 8) | (1u << 16); /* CLFLUSH line 64 bytes; 1 logical CPU */
        feature_words(c, 1, out);
        if (c->mmu.cr4 & CR4_OSXSAVE)
            out[2] |= 1u << 27;
        /* a globally disabled local APIC (IA32_APIC_BASE[11] = 0) is
         * reported as absent (SDM Vol. 3A 10.4.3) */
        if (!(c->apic_base & (1u << 11)))
            out[3] &= ~(1u << 9);
        return;
    case 2:
        out[0] = 0x00feff01; /* "use leaf 4" descriptor (SDM Table 3-12, 0xFF) */
        return;
    case 4: {
        /* deterministic cache parameters: L1d, L1i, L2, L3 */
        static const uint32_t type_level[4] = {0x21, 0x22, 0x43, 0x63};
        static const uint32_t ways[4] = {8, 8, 16, 16}, sets[4] = {64, 64, 1024, 8192};
        if (sub >= 4)
            return;
        out[0] = type_level[sub];
        out[1] = (ways[sub] - 1) << 22 | 63; /* 64-byte lines, 1 partition */
        out[2] = sets[sub] - 1;
        return;
    }
    case 5: /* MONITOR/MWAIT: 64-byte monitor line; EMX and IBE (ECX bit 0 break events) */
        if (cpu_has_feature(c, "monitor")) {
            out[0] = 64;
            out[1] = 64;
            out[2] = 3;
        }
        return;
    case 6:
        return; /* no thermal/power features */
    case 0xa:
        /* Architectural performance monitoring (SDM Vol. 3B 20.2.1):
         * version 0, no counters.  nest86 has no PMU, so every PMU MSR
         * and RDPMC raise #GP; saying version 0 here (and PDCM clear in
         * leaf 1) is what makes a guest kernel not try them.  See
         * docs/platform.md, "CPU model". */
        return;
    case 7:
        if (sub == 0) {
            feature_words(c, 7, out);
            if (c->mmu.cr4 & CR4_PKE)
                out[2] |= 1u << 4; /* OSPKE mirrors CR4.PKE */
        }
        return;
    case 0xb:
        /* x2APIC topology: one thread, one core */
        if (sub < 2) {
            out[0] = 0;
            out[1] = 1;
            out[2] = sub | ((sub + 1) << 8);
        } else {
            out[2] = sub;
        }
        return;
    case 0xd:
        /* XSAVE components (SDM Vol. 1 13.2): x87 and SSE only, so every
         * area is the 512-byte legacy region plus the 64-byte header. */
        if (sub == 0) {
            out[0] = (uint32_t)SSE_XCR0_SUPPORTED;
            out[1] = SSE_XSAVE_AREA_SIZE; /* for the components enabled in XCR0 */
            out[2] = SSE_XSAVE_AREA_SIZE; /* for all supported components */
        } else if (sub == 1) {
            feature_words(c, 0xd, out); /* XSAVEOPT, XSAVEC (features.def) */
            out[1] = SSE_XSAVE_AREA_SIZE; /* compacted, XCR0 | IA32_XSS */
        }
        return;
    case 0x80000000:
        out[0] = CPUID_MAX_EXT;
        return;
    case 0x80000001:
        feature_words(c, 0x80000001, out);
        return;
    case 0x80000002:
    case 0x80000003:
    case 0x80000004:
        put_str(out, brand + 16 * (leaf - 0x80000002));
        return;
    case 0x80000006:
        out[2] = (256u << 16) | (6u << 12) | 64; /* 256 KiB L2, 8-way, 64-byte lines */
        return;
    case 0x80000008:
        out[0] = MMU_MAXPHYADDR | ((cpu_has_feature(c, "la57") ? 57u : 48u) << 8);
        return;
    default:
        /* SDM Vol. 2A CPUID: an input above the maximum basic or extended
         * leaf returns the data of the highest basic leaf.  A leaf at or
         * below the maximum that the model does not implement (3, 8, 9,
         * 0xC, 0x80000005, 0x80000007) is reserved: all zeros. */
        if ((leaf > CPUID_MAX_BASIC && leaf < 0x80000000) || leaf > CPUID_MAX_EXT)
            cpu_cpuid(c, CPUID_MAX_BASIC, sub, out);
        return;
    }
}

int cpu_feature_index(const char *name)
{
    for (unsigned k = 0; k < NFEATURES; k++)
        if (!strcmp(features[k].name, name))
            return (int)k;
    return -1;
}

bool cpu_has_feature(const struct cpu *c, const char *name)
{
    int k = cpu_feature_index(name);
    return k >= 0 && !((c->feat_disabled >> k) & 1);
}

int cpu_configure(struct cpu *c, const char *spec, char *err, size_t errlen)
{
    char buf[512];
    if (!spec)
        return 0;
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    char *model = strtok_r(buf, ",", &save);
    if (!model || (strcmp(model, "nest86") && strcmp(model, "max"))) {
        snprintf(err, errlen, "unknown CPU model '%s' (models: nest86, max)", model ? model : "");
        return -1;
    }
    for (char *tok = strtok_r(NULL, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        bool on = true;
        if (eq) {
            *eq = 0;
            if (!strcmp(eq + 1, "off"))
                on = false;
            else if (strcmp(eq + 1, "on")) {
                snprintf(err, errlen, "feature '%s': value must be on or off", tok);
                return -1;
            }
        } else if (tok[0] == '-' || tok[0] == '+') {
            on = tok[0] == '+';
            tok++;
        }
        int k = cpu_feature_index(tok);
        if (k < 0) {
            snprintf(err, errlen, "unknown CPU feature '%s' (see 'nest86 -cpu help')", tok);
            return -1;
        }
        if (on)
            c->feat_disabled &= ~(1ull << k);
        else
            c->feat_disabled |= 1ull << k;
    }
    return 0;
}

void cpu_list_features(FILE *out)
{
    fprintf(out, "CPU models: nest86 (default), max\nfeatures:");
    for (unsigned k = 0; k < NFEATURES; k++)
        fprintf(out, "%s%s", k % 12 ? " " : "\n  ", features[k].name);
    fprintf(out, "\n");
}
