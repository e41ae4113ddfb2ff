"""The audience read model of the ingest service: every customer's rule fields in
columns (columns), loaded and kept current in the API process (readmodel, from the
worker's notices in changes), listed and searched (listing), and the launched
campaign's audience resolved into send entries (resolver, from source)."""
