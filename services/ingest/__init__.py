"""Customers and orders: ingestion API, ingest worker, audience preview and resolver."""
