from django.apps import AppConfig


class DedupeConfig(AppConfig):
    name = "dedupe"
    verbose_name = "Duplicates and merge"

    def ready(self) -> None:
        from core import extensions

        from .panels import company_panel, contact_panel

        extensions.register_panel("contacts.contact", key="dedupe", render=contact_panel, order=90)
        extensions.register_panel("contacts.company", key="dedupe", render=company_panel, order=90)
