"""Keepsake: the server of a calm social network for short video memories.

Any request may also be answered 503 with code `unavailable` and a `Retry-After` header
when the server cannot reach its database for a moment: retry it then.
"""
