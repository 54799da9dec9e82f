"""Data exports: one ZIP of everything a user owns, built by a job, kept for a day."""
