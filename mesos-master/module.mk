# mesos-master: dcos-mesos-master, and the unit tests of its pure logic.
MESOS_MASTER_SRCS := $(sort $(wildcard mesos-master/src/*.c))
$(eval $(call program,dcos-mesos-master,$(MESOS_MASTER_SRCS)))
