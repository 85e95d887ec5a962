# testsuite/difftest/difftest.mk — the differential tester (README.md in
# this folder).  Included by the top Makefile.  build/difftest links the
# CPU from build/libnest86.a; `make check` runs it through
# testsuite/integration/difftest.sh with a fixed seed, `make fuzz-cpu`
# runs it longer with a random seed.
DIFFTEST_SRCS := $(sort $(wildcard testsuite/difftest/*.c))
DIFFTEST_OBJS := $(DIFFTEST_SRCS:%.c=$(BUILD)/obj/%.o)
DIFFTEST := $(BUILD)/difftest
FUZZ_CPU_SECONDS ?= 600

$(DIFFTEST): $(DIFFTEST_OBJS) $(TEST_COMMON_OBJS) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(DIFFTEST_OBJS) $(TEST_COMMON_OBJS) $(LIB) $(LIBS)

.PHONY: difftest fuzz-cpu
difftest: $(DIFFTEST)
check-run: $(DIFFTEST)

# A random seed (printed first) for FUZZ_CPU_SECONDS; replay a failure
# with build/difftest --seed N --only K.
fuzz-cpu: $(DIFFTEST)
	$(DIFFTEST) --random-seed --time $(FUZZ_CPU_SECONDS)

-include $(DIFFTEST_OBJS:.o=.d)
