# libdcos: the library every daemon links, built twice: plain for the
# daemons, with sanitizers for the unit tests.

COMMON_SRCS := $(sort $(wildcard common/src/*.c))
COMMON_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRCS))
COMMON_SAN_OBJS := $(patsubst %.c,$(BUILD)/san/%.o,$(COMMON_SRCS))
-include $(COMMON_OBJS:.o=.d) $(COMMON_SAN_OBJS:.o=.d)

$(LIBDCOS): $(COMMON_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBDCOS_SAN): $(COMMON_SAN_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# one cmocka program per module
$(foreach t,$(basename $(notdir $(wildcard common/tests/test_*.c))),\
  $(eval $(call unit_test,common-$(t),common/tests/$(t).c)))
