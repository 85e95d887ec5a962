# Guest test kernels: freestanding Multiboot 1 images built with the host
# gcc and ld. Included by the top Makefile; also usable on its own from the
# repository root: make -f testsuite/guest/build.mk guest-kernels
#
# Interface:
#   GUEST_BUILD_MK  set to 1 once this file is included
#   GUEST_KERNELS   list of build/guest/NAME.elf images
#   guest-kernels   phony target that builds them all
#   GUEST_CC, GUEST_LD, GUEST_OBJCOPY   tools (default gcc, ld, objcopy)
#
# Each testsuite/guest/NAME.c (plus an optional NAME.S) is one kernel.
# Optional sidecars beside it are copied next to the image for
# testsuite/run: NAME.status -> NAME.elf.status (the nest86 exit status
# the kernel must end with; default 1) and NAME.args -> NAME.elf.args
# (extra nest86 options).
# A kernel links at 1 MiB unless GUEST_LOAD_ADDR_NAME (below) names
# another address (rt/link.ld's rt_load_addr).
# NAME starting with pm32_ builds a 32-bit protected-mode kernel; any other
# NAME builds a 64-bit long-mode kernel. The final image is always ELF32
# (i386): 64-bit kernels are linked as build/guest/t64/NAME.elf64 (keep it
# for 64-bit disassembly and symbols) and converted with
# objcopy -O elf32-i386 --strip-debug (symbols stay), because Multiboot
# loaders take ELF32 only.

GUEST_BUILD_MK := 1
GUEST_CC ?= gcc
GUEST_LD ?= ld
GUEST_OBJCOPY ?= objcopy

GUEST_SRC := testsuite/guest
GUEST_OUT := build/guest

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-builtin -nostdlib -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -fno-strict-aliasing \
	-fno-tree-loop-distribute-patterns -mgeneral-regs-only \
	-I$(GUEST_SRC)/rt -Itestsuite/vmx -MMD -MP
GUEST_CFLAGS32 := -m32 -march=i686
GUEST_CFLAGS64 := -m64 -mno-red-zone -mcmodel=small
GUEST_LDFLAGS := -nostdlib -static -T $(GUEST_SRC)/rt/link.ld \
	-z max-page-size=0x1000 -z noexecstack -z noseparate-code \
	--no-warn-rwx-segments

GUEST_RT_SRCS := entry.S isr.S idt.c gdt.c console.c printf.c runtime.c
GUEST_RT64_SRCS := paging64.c user64.c user64.S
GUEST_RT32 := $(patsubst %,$(GUEST_OUT)/rt32/%.o,$(GUEST_RT_SRCS))
GUEST_RT64 := $(patsubst %,$(GUEST_OUT)/rt64/%.o,$(GUEST_RT_SRCS) $(GUEST_RT64_SRCS))
# the VMX test library (testsuite/vmx/): 64-bit kernels only
GUEST_VMX_SRCS := vmx64.c
GUEST_RT64 += $(patsubst %,$(GUEST_OUT)/vmx/%.o,$(GUEST_VMX_SRCS))

# Kernels linked low, where the loader's own data used to go: the
# Multiboot information must be placed around them.
GUEST_LOAD_ADDR_multiboot_low := 0x8000
GUEST_LOAD_ADDR_pm32_multiboot_low := 0x1000

GUEST_TESTS := $(sort $(basename $(notdir $(wildcard $(GUEST_SRC)/*.c))))
GUEST_KERNELS := $(patsubst %,$(GUEST_OUT)/%.elf,$(GUEST_TESTS))
GUEST_SIDECARS := $(foreach k,status args,$(patsubst $(GUEST_SRC)/%.$(k),$(GUEST_OUT)/%.elf.$(k),$(wildcard $(GUEST_SRC)/*.$(k))))

guest_bits = $(if $(filter pm32_%,$(1)),32,64)

.PHONY: guest-kernels guest-clean
guest-kernels: $(GUEST_KERNELS) $(GUEST_SIDECARS)

$(GUEST_OUT)/%.elf.status: $(GUEST_SRC)/%.status
	@mkdir -p $(@D)
	cp $< $@

$(GUEST_OUT)/%.elf.args: $(GUEST_SRC)/%.args
	@mkdir -p $(@D)
	cp $< $@

guest-clean:
	rm -rf $(GUEST_OUT)

# Objects: $(1) = 32 or 64, $(2) = object, $(3) = source.
define guest_obj
$(2): $(3) $(GUEST_SRC)/build.mk
	@mkdir -p $$(@D)
	$$(GUEST_CC) $$(GUEST_CFLAGS) $$(GUEST_CFLAGS$(1)) -c $$< -o $$@
endef

$(foreach s,$(GUEST_RT_SRCS),$(eval $(call guest_obj,32,$(GUEST_OUT)/rt32/$(s).o,$(GUEST_SRC)/rt/$(s))))
$(foreach s,$(GUEST_RT_SRCS) $(GUEST_RT64_SRCS),$(eval $(call guest_obj,64,$(GUEST_OUT)/rt64/$(s).o,$(GUEST_SRC)/rt/$(s))))
$(foreach s,$(GUEST_VMX_SRCS),$(eval $(call guest_obj,64,$(GUEST_OUT)/vmx/$(s).o,testsuite/vmx/$(s))))

# One kernel: $(1) = NAME, $(2) = 32 or 64.
define guest_kernel
GUEST_OBJS_$(1) := $(GUEST_OUT)/t$(2)/$(1).c.o \
	$(if $(wildcard $(GUEST_SRC)/$(1).S),$(GUEST_OUT)/t$(2)/$(1).S.o)
$(call guest_obj,$(2),$(GUEST_OUT)/t$(2)/$(1).c.o,$(GUEST_SRC)/$(1).c)
$(if $(wildcard $(GUEST_SRC)/$(1).S),$(call guest_obj,$(2),$(GUEST_OUT)/t$(2)/$(1).S.o,$(GUEST_SRC)/$(1).S))
$(GUEST_OUT)/$(1).elf: $$(GUEST_RT$(2)) $$(GUEST_OBJS_$(1)) $(GUEST_SRC)/rt/link.ld
	$$(GUEST_LD) -m $(if $(filter 32,$(2)),elf_i386 -o $$@,elf_x86_64 -o $(GUEST_OUT)/t64/$(1).elf64) \
		$$(GUEST_LDFLAGS) $(if $(GUEST_LOAD_ADDR_$(1)),--defsym=rt_load_addr=$(GUEST_LOAD_ADDR_$(1))) \
		$$(GUEST_RT$(2)) $$(GUEST_OBJS_$(1))
	$(if $(filter 64,$(2)),$$(GUEST_OBJCOPY) -O elf32-i386 --strip-debug $(GUEST_OUT)/t64/$(1).elf64 $$@)
endef

$(foreach t,$(GUEST_TESTS),$(eval $(call guest_kernel,$(t),$(call guest_bits,$(t)))))

-include $(wildcard $(GUEST_OUT)/*/*.d)
