from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("imports/", views.import_list, name="import_list"),
    path("imports/new/", views.import_new, name="import_new"),
    path("imports/templates/", views.template_list, name="template_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/mapping/", views.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/report.csv", views.import_report, name="import_report"),
    path("imports/<int:pk>/undo/", views.import_undo, name="import_undo"),
    path("imports/<int:pk>/rerun/", views.import_rerun, name="import_rerun"),
    path("contacts/<int:pk>/vcard.vcf", views.contact_vcard_download, name="contact_vcard"),
    path("contacts/vcards.vcf", views.contacts_vcard_download, name="contacts_vcard"),
]
