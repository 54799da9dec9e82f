"""Feeds: home, explore and hashtag pages of memories, each one database statement."""
