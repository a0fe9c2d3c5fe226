# bench/mesos: the simulated agents and the measuring framework used by
# bench/mesos/run.py (make bench).
$(eval $(call tool,mesos-sim-agents,bench/mesos/sim_agents.c))
$(eval $(call tool,mesos-bench-scheduler,bench/mesos/bench_scheduler.c))
