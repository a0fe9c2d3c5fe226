# dcos-c: one non-recursive build for the shared library, every daemon, the
# tests and the benchmarks. Each component adds itself in its own module.mk
# with a few lines (see mk/rules.mk); every binary lands in build/bin/.
#
#   make            build everything (installs missing Debian packages first)
#   make run        build and start a one-node development cluster
#   make test       unit tests (with ASan/UBSan), unit file checks, e2e tests
#   make bench      benchmarks against the anchors (bench/)
#   make install    install into $(DESTDIR)$(PREFIX) (default /opt/mesosphere)

PREFIX  ?= /opt/mesosphere
DESTDIR ?=
BUILD   ?= build
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

.DEFAULT_GOAL := all

include mk/config.mk
include mk/rules.mk

include common/module.mk
include tests/module.mk
-include $(filter-out common/module.mk tests/module.mk,$(sort $(wildcard */module.mk)))

include mk/targets.mk
