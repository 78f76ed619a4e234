"""Follow-up: the self-management plan, the diary and its analysis (pure: no I/O but packaged data)."""
