"""Background jobs (RQ 2.x). ``jobs.enqueue`` (enqueueing) and ``jobs.admin`` (dead letters,
workers, the scheduler leader) are the facades other packages use."""
