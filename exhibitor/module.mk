# exhibitor: dcos-exhibitor, this master's replicated state store member
# (a dqlite node) and Exhibitor's REST API.
$(eval $(call program,dcos-exhibitor,$(wildcard exhibitor/src/*.c)))
$(eval $(call unit_test,exhibitor-test,exhibitor/tests/test_exhibitor.c exhibitor/src/guard_check.c exhibitor/src/config.c))
