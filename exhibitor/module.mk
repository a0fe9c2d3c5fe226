# exhibitor: dcos-exhibitor, this master's replicated state store member
# (a dqlite node) and Exhibitor's REST API.
$(eval $(call program,dcos-exhibitor,$(wildcard exhibitor/src/*.c)))
