"""Keepsake: the server of a calm social network for short video memories.

Any request may also be answered 503 with code `unavailable` and a `Retry-After` header
when the server cannot reach its database for a moment: retry it then.

Contract change: a bad or expired access token is answered 401 with code
`invalid_access_token`, and a bad, used or expired email link's token 400 with code
`invalid_link_token`; both were `invalid_token` before, so an app could not tell them apart.
"""
