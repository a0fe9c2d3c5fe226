# How sources become objects and programs.
#
# A component's module.mk declares its programs and unit tests:
#
#   $(eval $(call program,dcos-marathon,$(wildcard marathon/src/*.c)))
#   $(eval $(call unit_test,test-marathon-validate,marathon/tests/test_validate.c marathon/src/validate.c))
#
# Programs link build/lib/libdcos.a; unit tests are compiled and linked with
# ASan/UBSan against build/lib/libdcos-san.a and run by `make test`.

BINS       :=
TOOL_BINS  :=
UNIT_TESTS :=
DEPS_STAMP := $(BUILD)/.deps-ok
LIBDCOS     := $(BUILD)/lib/libdcos.a
LIBDCOS_SAN := $(BUILD)/lib/libdcos-san.a

$(DEPS_STAMP): scripts/install-deps
	@scripts/install-deps
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

# program NAME, SOURCES: a binary in build/bin linked with libdcos.
define program
BINS += $(BUILD)/bin/$(1)
$(1)_OBJS := $$(patsubst %.c,$(BUILD)/obj/%.o,$(2))
-include $$($(1)_OBJS:.o=.d)
$(BUILD)/bin/$(1): $$($(1)_OBJS) $(LIBDCOS)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$($(1)_OBJS) $(LIBDCOS) $$(LDLIBS)
endef

# tool NAME, SOURCES: a test or benchmark program in build/bin, built by
# `make` but not installed.
define tool
$(call program,$(1),$(2))
BINS := $$(filter-out $(BUILD)/bin/$(1),$$(BINS))
TOOL_BINS += $(BUILD)/bin/$(1)
endef

# unit_test NAME, SOURCES: a cmocka test built with sanitizers.
define unit_test
UNIT_TESTS += $(BUILD)/tests/$(1)
$(1)_OBJS := $$(patsubst %.c,$(BUILD)/san/%.o,$(2))
-include $$($(1)_OBJS:.o=.d)
$(BUILD)/tests/$(1): $$($(1)_OBJS) $(LIBDCOS_SAN)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $(SAN_FLAGS) -o $$@ $$($(1)_OBJS) $(LIBDCOS_SAN) $$(LDLIBS) -lcmocka
endef
