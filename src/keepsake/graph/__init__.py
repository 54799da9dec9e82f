"""Follows, follow requests, blocks, mutes and close friends."""
