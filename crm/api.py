"""The REST API at /api/v1/: one router per app."""

from activities.api import router as activity_router
from commerce.api import router as commerce_router
from contacts.api import company_router
from contacts.api import router as contact_router
from core.api import make_api
from dedupe.api import router as dedupe_router
from imports.api import router as import_router
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
# Before the contact and company routers: "/contacts/duplicates" and "/contacts/merge" must not be read as
# "/contacts/{contact_id}".
api.add_router("", dedupe_router)
api.add_router("/contacts", contact_router)
api.add_router("/companies", company_router)
# Each of these routers declares its own paths (e.g. "/activities", "/tasks"; "/products", "/orders").
api.add_router("", activity_router)
api.add_router("", commerce_router)
api.add_router("", import_router)
