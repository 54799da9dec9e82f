"""Claps: a viewer claps 1–50 times per memory; only the author sees the total and who."""
