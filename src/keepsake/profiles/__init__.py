"""Profiles, settings and the one-line note."""
