"""Reward points: a double-entry ledger that never loses or double-counts a point."""
