"""The only public door: OAuth, sessions, API keys, routing, the web UI."""
