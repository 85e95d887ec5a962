/* cpu/cpuid.h — the emulated CPU model and its feature switches. */
#ifndef NEST86_CPU_CPUID_H
#define NEST86_CPU_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cpu;

/* One id per row of cpu/features.def: bit k of cpu->feat_disabled is
 * feature k.  CPU_HAS(c, name) is the constant-time test for code that
 * asks often (VM entry checks, CR4 writes); cpu_has_feature() takes a
 * name from the user. */
enum cpu_feature {
#define FEAT(name, leaf, reg, bit) CPU_FEAT_##name,
#include "cpu/features.def"
#undef FEAT
    CPU_NFEATURES
};
#define CPU_HAS(c, name) (!(((c)->feat_disabled >> CPU_FEAT_##name) & 1))

int cpu_feature_index(const char *name);
bool cpu_has_feature(const struct cpu *c, const char *name);
/* Applies "-cpu MODEL[,feat=on|off...]"; -1 with a message in err. */
int cpu_configure(struct cpu *c, const char *spec, char *err, size_t errlen);
void cpu_list_features(FILE *out);

#endif
