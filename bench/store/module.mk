# bench/store: the load program behind bench/store/run.
$(eval $(call program,store-bench,bench/store/store-bench.c))
