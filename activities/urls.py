from django.urls import path

from . import views

app_name = "activities"

urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", views.task_reopen, name="task_reopen"),
    path("activities/<int:pk>/archive/", views.activity_archive, name="activity_archive"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("contacts/<int:pk>/timeline/", views.contact_timeline, name="contact_timeline"),
    path("companies/<int:pk>/timeline/", views.company_timeline, name="company_timeline"),
    path("contacts/<int:pk>/timeline/compose/", views.contact_compose, name="contact_compose"),
    path("companies/<int:pk>/timeline/compose/", views.company_compose, name="company_compose"),
]
