# Makefile for nest86.  A fresh clone needs only `make` (it runs
# ./configure when config.mk is missing).  See README.md.

# Goals that must work without a configured tree: cleaning, and the two
# wrappers that first install missing packages (scripts/deps.sh) and only
# then configure and build through a sub-make.
NOCONFIG_GOALS := clean distclean check demo help
ifeq ($(MAKECMDGOALS),)
NEED_CONFIG := 1
else ifneq ($(filter-out $(NOCONFIG_GOALS),$(MAKECMDGOALS)),)
NEED_CONFIG := 1
endif

ifdef NEED_CONFIG
include config.mk
endif

# Rerun configure, with the options it was last given, when it changes
# or its outputs are missing.  config.h is written by the same run.
config.mk: configure
	./configure $(CONFIGURE_ARGS)
config.h: config.mk
	@test -f $@ || ./configure $(CONFIGURE_ARGS)

BUILD := build
SRC_DIRS := cpu mmu vmx devices frontend debugger
# find, not wildcard, so modules may grow subfolders (e.g. cpu/ops/).
SRCS := $(sort $(shell find $(SRC_DIRS) -name '*.c' 2>/dev/null))
OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/frontend/main.o
# Everything but main() goes into the library that unit tests and the
# differential tester link against.
LIB_OBJS := $(filter-out $(MAIN_OBJ),$(OBJS))
LIB := $(BUILD)/libnest86.a

UNIT_SRCS := $(sort $(wildcard testsuite/unit/*.c))
UNIT_OBJS := $(UNIT_SRCS:testsuite/unit/%.c=$(BUILD)/obj/testsuite/unit/%.o)
UNIT_BINS := $(UNIT_SRCS:testsuite/unit/%.c=$(BUILD)/unit/%)
# Code the unit tests and the differential tester share: the Intel/AMD
# table and its models (testsuite/vendor_diffs.h).
TEST_COMMON_OBJS := $(BUILD)/obj/testsuite/vendor_diffs.o

.PHONY: all check check-run unit-tests bench install clean distclean demo demo-run demo-kvm demo-kvm-run help
.DEFAULT_GOAL := all

all: nest86

# The binary links every object directly rather than through the
# library, so objects nothing references by name (e.g. devices that
# register themselves) are not dropped by the archive's lazy linking.
nest86: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

$(BUILD)/obj/%.o: %.c config.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

unit-tests: $(UNIT_BINS)
# Keep the unit objects: make would delete them as intermediates of the
# pattern chain and rebuild them every time.
.SECONDARY: $(UNIT_OBJS)

$(BUILD)/unit/%: $(BUILD)/obj/testsuite/unit/%.o $(TEST_COMMON_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_COMMON_OBJS) $(LIB) $(LIBS)
-include $(TEST_COMMON_OBJS:.o=.d)

# Guest test kernels come from testsuite/guest/build.mk, which defines
# guest-kernels and sets GUEST_BUILD_MK; without it there are none.
-include testsuite/guest/build.mk
-include testsuite/bench/bench.mk
-include testsuite/difftest/difftest.mk
ifndef GUEST_BUILD_MK
.PHONY: guest-kernels
guest-kernels:
	@:
endif

# An AddressSanitizer + UBSan build of nest86 beside the normal one, with
# objects of its own, for testsuite/integration/sanitizers.sh.  UBSan
# aborts on the first report, so no report can go unnoticed.
SAN_BUILD := $(BUILD)/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
SAN_OBJS := $(SRCS:%.c=$(SAN_BUILD)/obj/%.o)
SAN_BIN := $(SAN_BUILD)/nest86

$(SAN_BUILD)/obj/%.o: %.c config.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

$(SAN_BIN): $(SAN_OBJS)
	$(CC) $(LDFLAGS) $(SAN_FLAGS) -o $@ $(SAN_OBJS) $(LIBS)

# check and demo install missing packages before anything is configured
# or built, then hand over to a sub-make that has the configuration.
check:
	@scripts/deps.sh --quiet
	@$(MAKE) --no-print-directory check-run

check-run: nest86 unit-tests guest-kernels $(SAN_BIN)
	testsuite/run

demo:
	@scripts/deps.sh --quiet
	@$(MAKE) --no-print-directory demo-run

# The demo kernel (testsuite/guest/demo_ept.c: a small hypervisor that
# runs a guest under EPT and prints what happens) ends through the
# debug-exit port: status 1 means it wrote 0 there, i.e. every value it
# printed was the SDM's (status = value << 1 | 1).
demo-run: nest86 guest-kernels
	@status=0; ./nest86 -kernel $(BUILD)/guest/demo_ept.elf -serial stdio -display none || status=$$?; \
	if [ $$status -eq 1 ]; then echo "demo: passed (nest86 ran a hypervisor and its guest under EPT)"; \
	else echo "demo: nest86 exited with status $$status; the demo kernel did not report success"; exit 1; fi

# The Linux/KVM scenario: Debian's cloud kernel (fetched by
# scripts/linux-fetch.sh, as the Linux tests do) boots in nest86, loads
# its own kvm_intel, and nest86's KVM client boots the same kernel as
# KVM's guest to a shell command that prints a line; the nested
# guest's console shows as NEST86_KVM_LINUX lines.
demo-kvm:
	@scripts/deps.sh --quiet
	@$(MAKE) --no-print-directory demo-kvm-run

demo-kvm-run: nest86
	@scripts/linux-fetch.sh --cloud-only
	./nest86 -m 1G -kernel $(BUILD)/linux/vmlinuz-cloud -initrd $(BUILD)/linux/initrd-kvm-linux.img \
	    -append "console=ttyS0 quiet nest86.nestedlinux" -serial stdio -display none -no-reboot

bench: nest86 bench-kernels
	@scripts/deps.sh --bench --quiet || \
	    echo "bench: the comparison packages are not all installed (see above): comparisons whose emulator is missing are left out"
	@testsuite/bench/run

install: nest86
	install -D -m 755 nest86 $(DESTDIR)$(PREFIX)/bin/nest86

clean:
	rm -rf $(BUILD) nest86

distclean: clean
	rm -f config.mk config.h

help:
	@echo "targets: all (default), check, demo, demo-kvm, bench, install, clean, distclean"
	@echo "a subset of tests, after one make check: testsuite/run -k PATTERN"

-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(SAN_OBJS:.o=.d)
