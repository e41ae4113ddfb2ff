"""Journeys: messages triggered by what customers do (definition, program, runner)."""
