"""Campaigns, saved segments and live campaign statistics."""
