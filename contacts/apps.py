from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"
    verbose_name = "Contacts and companies"

    def ready(self) -> None:
        from . import queries  # noqa: F401  (registers the query-language fields and search kinds)
