"""REST API of the activities app: one router, mounted in crm/api.py."""

from ninja import Router

router = Router(tags=["activities"])
