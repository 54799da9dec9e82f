"""Keepsake: the server of a calm social network for short video memories."""
