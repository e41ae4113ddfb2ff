"""A simulated messaging vendor: an outside party reached over HTTP."""
