"""REST API of the imports app: one router, mounted in crm/api.py."""

from ninja import Router

router = Router(tags=["imports"])
