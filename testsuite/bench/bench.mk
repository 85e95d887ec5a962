# testsuite/bench/bench.mk — the benchmark guest kernels, built like the
# 64-bit guest test kernels (testsuite/guest/build.mk) from the same
# runtime.  Included by the top Makefile after the guest fragment.
BENCH_OUT := build/bench
BENCH_KERNELS := $(BENCH_OUT)/workload.elf $(BENCH_OUT)/vmx_roundtrip.elf \
	$(BENCH_OUT)/vmx_ept_workload.elf

$(BENCH_OUT)/%.c.o: testsuite/bench/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_CFLAGS64) -Itestsuite/bench -O2 -c $< -o $@

$(BENCH_OUT)/%.elf: $(GUEST_RT64) $(BENCH_OUT)/%.c.o $(GUEST_SRC)/rt/link.ld
	$(GUEST_LD) -m elf_x86_64 -o $(BENCH_OUT)/$*.elf64 $(GUEST_LDFLAGS) \
		$(GUEST_RT64) $(BENCH_OUT)/$*.c.o
	$(GUEST_OBJCOPY) -O elf32-i386 --strip-debug $(BENCH_OUT)/$*.elf64 $@

# the memory-heavy sieve is a guest test kernel too (make check runs it
# small, as a correctness check): make bench runs it at 10^8
.PHONY: bench-kernels
bench-kernels: $(BENCH_KERNELS) $(GUEST_OUT)/lm64_sieve.elf
