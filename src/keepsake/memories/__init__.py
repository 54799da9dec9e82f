"""Memories: 1–10 clips, a caption, a visibility, and their processing."""
