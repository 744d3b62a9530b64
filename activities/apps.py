from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "Timeline: notes, calls, meetings, e-mails and tasks"

    def ready(self) -> None:
        from core import extensions

        from . import views

        extensions.register_tab(
            "contacts.contact",
            key="timeline",
            label=_("Timeline"),
            render=views.contact_timeline_tab,
            order=10,
        )
        extensions.register_tab(
            "contacts.company",
            key="timeline",
            label=_("Timeline"),
            render=views.company_timeline_tab,
            order=10,
        )
        for object_type in ("contacts.contact", "contacts.company"):
            extensions.register_panel(
                object_type, key="open_tasks", label=_("Open tasks"), render=views.open_tasks_panel, order=10
            )
