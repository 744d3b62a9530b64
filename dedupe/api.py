"""REST API of the dedupe app: one router, mounted in crm/api.py."""

from ninja import Router

router = Router(tags=["dedupe"])
