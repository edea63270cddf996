"""Background jobs (RQ 2.x). ``jobs.enqueue`` is the facade other packages use."""
