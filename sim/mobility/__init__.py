"""Mobility: weekday trips from the persons, and origin-destination demand models."""
