"""Framework-free, synchronous services; each takes a SQLAlchemy ``Session`` first."""
