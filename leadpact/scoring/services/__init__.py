"""Every state change of the lead profile and of lead scores (one function per change)."""
