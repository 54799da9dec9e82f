"""The operator's music library that memories may play under their clips."""
