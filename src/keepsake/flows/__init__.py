"""Processes that span domains, above the domains' services (as Dispatch's `flows.py`).

A router that needs two domains calls one flow; the flow calls each domain's service.
Only routers and the app itself import flows; no service or repository does.
"""
