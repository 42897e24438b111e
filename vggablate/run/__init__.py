"""Planning and running trials into rows: sweeps, trials, isolation, executors, the journal."""
