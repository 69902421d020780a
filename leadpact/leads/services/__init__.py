"""Every state change of a lead: one function each (import them from their modules)."""
