# marathon: dcos-marathon, long-running apps on Mesos (see marathon/README.md)

MARATHON_SRCS := $(sort $(wildcard marathon/src/*.c))
MARATHON_LIB_SRCS := $(filter-out marathon/src/main.c,$(MARATHON_SRCS))

ifneq ($(wildcard marathon/src/main.c),)
$(eval $(call program,dcos-marathon,$(MARATHON_SRCS)))
endif

# one cmocka program per marathon/tests/test_*.c, linked with the daemon's
# sources (all but main.c)
$(foreach t,$(basename $(notdir $(wildcard marathon/tests/test_*.c))),\
  $(eval $(call unit_test,marathon-$(t),marathon/tests/$(t).c $(MARATHON_LIB_SRCS))))
