# bench: each benchmark suite lives in bench/<name>/ with its own module.mk.
-include $(sort $(wildcard bench/*/module.mk))
