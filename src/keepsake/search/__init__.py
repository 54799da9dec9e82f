"""People and hashtag search."""
