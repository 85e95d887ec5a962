/* cpu/cpuid.h — the emulated CPU model and its feature switches. */
#ifndef NEST86_CPU_CPUID_H
#define NEST86_CPU_CPUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cpu;

int cpu_feature_index(const char *name);
bool cpu_has_feature(const struct cpu *c, const char *name);
/* Applies "-cpu MODEL[,feat=on|off...]"; -1 with a message in err. */
int cpu_configure(struct cpu *c, const char *spec, char *err, size_t errlen);
void cpu_list_features(FILE *out);

#endif
