# The user-facing targets.

UNIT_SRCS := $(sort $(wildcard units/*.service units/*.socket units/*.timer units/*.target))
UNITS     := $(patsubst units/%,$(BUILD)/units/%,$(UNIT_SRCS))

.PHONY: all run test unit-test units-verify e2e bench install clean deps

all: $(BINS) $(TOOL_BINS) $(UNITS)

deps: $(DEPS_STAMP)

# Unit files name their binaries under @PREFIX@; the build fills it in.
$(BUILD)/units/%: units/%
	@mkdir -p $(@D)
	sed 's|@PREFIX@|$(PREFIX)|g' $< > $@

run: all
	$(PYTHON) scripts/dcos-up --masters 1 --agents 1 --public-agents 1

unit-test: $(UNIT_TESTS)
	@scripts/run-unit-tests $(UNIT_TESTS)

units-verify: all
	@scripts/verify-units $(BUILD) $(PREFIX)

e2e: all
	$(PYTHON) -m pytest -q -rfEs --durations=15 --timeout=300 tests/e2e $(PYTEST_ARGS)

test: all $(UNIT_TESTS)
	@scripts/run-unit-tests $(UNIT_TESTS)
	@scripts/verify-units $(BUILD) $(PREFIX)
	$(PYTHON) -m pytest -q -rfEs --durations=15 --timeout=300 tests/e2e $(PYTEST_ARGS)

bench: all
	@scripts/run-benches

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(UNITS) $(DESTDIR)$(PREFIX)/lib/systemd/system/

clean:
	rm -rf $(BUILD)
