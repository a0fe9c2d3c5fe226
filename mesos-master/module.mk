# mesos-master: dcos-mesos-master, and the unit tests of its pure logic.
MESOS_MASTER_SRCS := $(sort $(wildcard mesos-master/src/*.c))
$(eval $(call program,dcos-mesos-master,$(MESOS_MASTER_SRCS)))
$(eval $(call unit_test,test-mesos-allocator,mesos-master/tests/test_allocator.c mesos-master/src/allocator.c))
$(eval $(call unit_test,test-mesos-sched-parse,mesos-master/tests/test_sched_parse.c mesos-master/src/sched_parse.c))
