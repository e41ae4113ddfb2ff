"""AI assistant features with deterministic fallbacks."""
