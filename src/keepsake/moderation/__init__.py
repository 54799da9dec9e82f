"""Reports, the moderation queue, hides, suspensions, strikes, appeals and the audit log."""
