from django.urls import path

from . import views

app_name = "dedupe"

urlpatterns = [
    path("duplicates/", views.group_list, name="group_list"),
    path("duplicates/run/", views.run, name="run"),
    path("duplicates/merge-above/", views.merge_above, name="merge_above"),
    path("duplicates/<int:pk>/", views.group_detail, name="group_detail"),
    path("duplicates/<int:pk>/dismiss/", views.group_dismiss, name="group_dismiss"),
    path("duplicates/check/contact/", views.contact_check, name="contact_check"),
    path("duplicates/check/company/", views.company_check, name="company_check"),
    path("merges/<int:pk>/", views.merge_detail, name="merge_detail"),
    path("merges/<int:pk>/undo/", views.merge_undo, name="merge_undo"),
]
