# tests/probe: a real program built from libdcos that the e2e tests drive
# over HTTP, SSE, RecordIO, nng and outgoing HTTP (see tests/probe/probe.c).
$(eval $(call tool,libdcos-probe,$(wildcard tests/probe/*.c)))
