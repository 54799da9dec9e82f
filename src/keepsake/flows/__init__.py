"""Processes that span domains, above the domains' services (as Dispatch's `flows.py`).

A router that needs two domains calls one flow; the flow calls each domain's service.
Only the entry points import flows: routers, job handlers and sweeps (a job is a request
that comes from the queue), and the app itself; no service or repository does.
"""
