"""Processes that span domains, above every domain (as Dispatch's `flows.py`).

A route that needs two domains calls one flow; the flow calls each domain's service. No
domain imports a flow: the routes that call one live here (`sign_in_router`), and where a
domain's own step must hand over to one (a job finishing a memory, the purge sweep), it
calls a hook that `keepsake.wiring` connects to the flow.
"""
