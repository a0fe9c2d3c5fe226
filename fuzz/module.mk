# fuzz: coverage-guided fuzzers (libFuzzer, from Debian's clang-14) for the
# parsers of untrusted input in common/ and exhibitor/. Each fuzz/<t>.c is
# one fuzzer, build/fuzz/bin/fuzz-<t>; its small seed corpus is in
# fuzz/corpus/<t>/ and the inputs that once broke it in fuzz/regress/<t>/.
#
#   make fuzz                      fuzz each target FUZZ_SECONDS (60) in turn
#   make fuzz FUZZ_TARGETS="json sse" FUZZ_SECONDS=600
#   make fuzz-regress              every fuzzer once over its corpus and
#                                  regress inputs (part of `make test`)
#
# The code under test is compiled again with clang, coverage and ASan/UBSan
# into build/fuzz/libdcos-fuzz.a; a target's extra sources (exhibitor's)
# are named in FUZZ_SRCS_<t>.

FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(CSTD) $(WARN) -O1 -g -MMD -MP -Icommon/include -Icommon/src \
                -Iexhibitor/src -DDCOS_VERSION='"$(VERSION)"' $(PKG_CFLAGS) \
                $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_ALL     := $(basename $(notdir $(wildcard fuzz/*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_BINS    := $(patsubst %,$(BUILD)/fuzz/bin/fuzz-%,$(FUZZ_ALL))
LIBDCOS_FUZZ := $(BUILD)/fuzz/libdcos-fuzz.a
FUZZ_LIB_OBJS := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(COMMON_SRCS))

FUZZ_SRCS_guard  := exhibitor/src/guard_check.c
FUZZ_SRCS_config := exhibitor/src/config.c

$(BUILD)/fuzz/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(LIBDCOS_FUZZ): $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

define fuzzer
$(1)_FUZZ_OBJS := $$(patsubst %.c,$(BUILD)/fuzz/obj/%.o,fuzz/$(1).c $$(FUZZ_SRCS_$(1)))
-include $$($(1)_FUZZ_OBJS:.o=.d)
$(BUILD)/fuzz/bin/fuzz-$(1): $$($(1)_FUZZ_OBJS) $(LIBDCOS_FUZZ)
	@mkdir -p $$(@D)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$($(1)_FUZZ_OBJS) \
	    $(LIBDCOS_FUZZ) $$(LDLIBS)
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call fuzzer,$(t))))
-include $(FUZZ_LIB_OBJS:.o=.d)

.PHONY: fuzz fuzz-build fuzz-regress

fuzz-build: $(FUZZ_BINS)

fuzz: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run-fuzz $(BUILD) $(FUZZ_TARGETS)

fuzz-regress: $(FUZZ_BINS)
	@fuzz/run-fuzz --regress $(BUILD) $(FUZZ_ALL)

# `make test` runs the regression step too.
test: fuzz-regress
