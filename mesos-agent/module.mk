# mesos-agent: dcos-mesos-slave (the agent), mesos-executor (one per task
# or task group) and mesos-containerizer (puts one process into its
# container and execs it). lib/ is shared by the three.
MESOS_AGENT_LIB := $(sort $(wildcard mesos-agent/lib/*.c))
# Paths here are built with snprintf and checked for truncation by their
# return value; GCC's truncation guesses about them are noise.
MESOS_AGENT_CFLAGS := -Imesos-agent/lib -Wno-format-truncation

$(eval $(call program,dcos-mesos-slave,$(sort $(wildcard mesos-agent/src/*.c)) $(MESOS_AGENT_LIB)))
$(eval $(call program,mesos-executor,$(sort $(wildcard mesos-agent/executor/*.c)) $(MESOS_AGENT_LIB)))
$(eval $(call program,mesos-containerizer,$(sort $(wildcard mesos-agent/containerizer/*.c)) $(MESOS_AGENT_LIB)))

$(BUILD)/obj/mesos-agent/%.o: ALL_CFLAGS += $(MESOS_AGENT_CFLAGS)
$(BUILD)/san/mesos-agent/%.o: ALL_CFLAGS += $(MESOS_AGENT_CFLAGS)

$(eval $(call unit_test,test-mesos-agent,mesos-agent/tests/test_agent.c mesos-agent/src/files.c mesos-agent/src/gc.c $(MESOS_AGENT_LIB)))
$(eval $(call unit_test,test-mesos-executor-fetch,mesos-agent/tests/test_fetch.c mesos-agent/executor/fetch.c $(MESOS_AGENT_LIB)))
