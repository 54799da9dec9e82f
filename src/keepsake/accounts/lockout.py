"""Log-in lockout: failures counted per account and address, under a per-account ceiling.

Counting failures per account alone let anyone lock an owner out with ten wrong
passwords. Here an address is refused after `rate_limit_login_per_account_ip` failures
on one account; once the account's failures from every address reach the much higher
`rate_limit_login_per_account`, only addresses without a recent failure on it may still
try, so the owner's correct password from their own address still gets through while
a spread-out guesser is stopped. Every attempt also counts against its address
(`rate_limit_login_per_ip`), which bounds a burst racing past these reads.
"""

from __future__ import annotations

import hashlib

from keepsake.accounts.client import Client
from keepsake.config import Settings
from keepsake.ratelimit import RateLimiter


def _keys(email: str, client: Client) -> tuple[str, str]:
    # A digest keeps every key short whatever the email's length.
    account = hashlib.sha256(email.lower().encode()).hexdigest()[:32]
    return f"login-fail:{account}:{client.ip}", f"login-fail:{account}"


async def check(limiter: RateLimiter, settings: Settings, email: str, client: Client) -> None:
    """Refuse (429) an attempt this address may not make on this account now."""
    await limiter.hit(
        f"login:ip:{client.ip}",
        limit=settings.rate_limit_login_per_ip,
        window=settings.rate_limit_window,
    )
    pair_key, account_key = _keys(email, client)
    counts = await limiter.counts([pair_key, account_key])
    pair, account = counts.get(pair_key), counts.get(account_key)
    if pair is None:
        return
    if pair.hits >= settings.rate_limit_login_per_account_ip:
        raise pair.refuse()
    if account is not None and account.hits >= settings.rate_limit_login_per_account:
        raise account.refuse()


async def failed(limiter: RateLimiter, settings: Settings, email: str, client: Client) -> None:
    """Count a wrong password (or unknown email, alike) against the account and address."""
    await limiter.add(_keys(email, client), window=settings.rate_limit_window)
