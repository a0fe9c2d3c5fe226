# bench: each benchmark's own module.mk (bench/<name>/module.mk) adds its
# load programs; bench/<name>/run runs it (scripts/run-benches, `make bench`).
include $(sort $(wildcard bench/*/module.mk))
