"""Sign-up, sign-in, sessions and tokens."""
