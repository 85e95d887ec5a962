/* cpu/cpuid.h — the emulated CPU model and its feature switches. */
#ifndef NEST86_CPU_CPUID_H
#define NEST86_CPU_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cpu;

/* One index per row of cpu/features.def: bit k of cpu->feat_disabled
 * turns feature k off. */
enum cpu_feature {
#define FEAT(name, leaf, reg, bit) CPU_FEAT_##name,
#include "cpu/features.def"
#undef FEAT
    CPU_NFEATURES
};
_Static_assert(CPU_NFEATURES <= 64, "cpu->feat_disabled has one bit per feature");

#define CPU_FEAT_BIT(name) (1ull << CPU_FEAT_##name)
/* true when the model advertises feature f (an enum cpu_feature) */
#define cpu_feat_on(c, f) (!(((c)->feat_disabled >> (f)) & 1))
/* the same by name, for code that asks often (VM-entry checks, CR4
 * writes): CPU_HAS(c, la57) */
#define CPU_HAS(c, name) cpu_feat_on(c, CPU_FEAT_##name)

int cpu_feature_index(const char *name);
/* Whether the host CPU nest86 runs on has feature f, by the same row's
 * leaf, register and bit (for helpers that use the host's instruction
 * where there is one: cpu/sse_sha.c) */
bool cpu_host_has_feature(enum cpu_feature f);
bool cpu_has_feature(const struct cpu *c, const char *name);
/* Applies "-cpu MODEL[,feat=on|off...]"; -1 with a message in err. */
int cpu_configure(struct cpu *c, const char *spec, char *err, size_t errlen);
void cpu_list_features(FILE *out);

#endif
