"""REST API of the commerce app: one router, mounted in crm/api.py."""

from ninja import Router

router = Router(tags=["commerce"])
