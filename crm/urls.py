from django.urls import include, path

from .api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("users.urls")),
    path("", include("core.urls")),
    path("", include("contacts.urls")),
    path("", include("activities.urls")),
    path("", include("commerce.urls")),
    path("", include("imports.urls")),
    path("", include("dedupe.urls")),
]
