"""Tools for testing glue_jupyter against real processes: a census of the OS's processes
(which agent processes are alive, in which group) and a storm of random controls with the
invariants it must keep. Used by the test suite and by `benchmarks/storm.py`."""
