"""The operator console at `/admin`: sign-in with a second factor, then the tools."""
