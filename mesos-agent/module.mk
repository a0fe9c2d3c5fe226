# mesos-agent: dcos-mesos-slave (the agent), mesos-executor (one per task
# or task group), mesos-containerizer (puts one process into its container
# and execs it) and mesos-fetcher (a task's URIs). lib/ is shared by the
# agent and the executor; the executor, containerizer and fetcher start
# for every task, so they link as little as they can.
MESOS_AGENT_LIB := $(sort $(wildcard mesos-agent/lib/*.c))
# Paths here are built with snprintf and checked for truncation by their
# return value; GCC's truncation guesses about them are noise.
MESOS_AGENT_CFLAGS := -Imesos-agent/lib -Wno-format-truncation

$(eval $(call program,dcos-mesos-slave,$(sort $(wildcard mesos-agent/src/*.c)) $(MESOS_AGENT_LIB)))
$(eval $(call program,mesos-executor,$(sort $(wildcard mesos-agent/executor/*.c)) $(MESOS_AGENT_LIB)))
$(eval $(call program,mesos-containerizer,$(sort $(wildcard mesos-agent/containerizer/*.c)) mesos-agent/lib/launch.c))
$(eval $(call program,mesos-fetcher,$(sort $(wildcard mesos-agent/fetcher/*.c))))

# mesos-executor is exec'd for every task: libevent and jansson linked in
# (only libc left for the dynamic linker) save ~0.13 ms of CPU per exec.
$(BUILD)/bin/mesos-executor: LDLIBS = -Wl,--as-needed -Wl,-Bstatic \
	-levent_extra -levent_core -ljansson -Wl,-Bdynamic -lm

$(BUILD)/obj/mesos-agent/%.o: ALL_CFLAGS += $(MESOS_AGENT_CFLAGS)
$(BUILD)/san/mesos-agent/%.o: ALL_CFLAGS += $(MESOS_AGENT_CFLAGS)

$(eval $(call unit_test,test-mesos-agent,mesos-agent/tests/test_agent.c mesos-agent/src/files.c mesos-agent/src/gc.c $(MESOS_AGENT_LIB)))
$(eval $(call unit_test,test-mesos-fetcher,mesos-agent/tests/test_fetch.c mesos-agent/fetcher/fetch.c))

# bench/mesos-agent: real launches per second on one agent (run script there)
$(eval $(call program,mesos-agent-bench,bench/mesos-agent/launch_bench.c))
