from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "activities"
    verbose_name = "Timeline: notes, calls, meetings, e-mails and tasks"
