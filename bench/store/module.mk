# bench/store: the load program behind bench/store/run.
$(eval $(call tool,store-bench,bench/store/store-bench.c))
