"""The REST API at /api/v1/: one router per app."""

from contacts.api import company_router
from contacts.api import router as contact_router
from core.api import make_api
from users.api import public_router
from users.api import router as user_router

api = make_api(
    title="CRM API",
    version="1",
    description=(
        "Contacts, companies and every later object. Authenticate with `Authorization: Bearer <token>` "
        "(`crm token create --user NAME`, or POST /auth/token) or the browser session. "
        "Errors have one shape: "
        '`{"detail": "...", "errors": {"field": ["message"]}}`.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api.add_router("", public_router)
api.add_router("", user_router)
api.add_router("/contacts", contact_router)
api.add_router("/companies", company_router)
