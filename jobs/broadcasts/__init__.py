"""WhatsApp broadcasts: the pure pacer and the ``run_broadcast`` job (docs/ARCHITECTURE.md §5)."""
