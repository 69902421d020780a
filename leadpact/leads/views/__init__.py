"""Pages of the leads app, one module per area."""
