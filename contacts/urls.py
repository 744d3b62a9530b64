from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("contacts/", views.ContactList.as_view(), name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/export.csv", views.ContactList.as_view(mode="export"), name="contact_export"),
    path("contacts/bulk/", views.ContactList.as_view(mode="bulk"), name="contact_bulk"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/archive/", views.contact_archive, name="contact_archive"),
    path("contacts/<int:pk>/restore/", views.contact_restore, name="contact_restore"),
    path("contacts/<int:pk>/history/", views.contact_history, name="contact_history"),
    path("contacts/<int:pk>/fields/<str:name>/", views.ContactField.as_view(), name="contact_field"),
    path("companies/", views.CompanyList.as_view(), name="company_list"),
    path("companies/new/", views.company_create, name="company_create"),
    path("companies/export.csv", views.CompanyList.as_view(mode="export"), name="company_export"),
    path("companies/bulk/", views.CompanyList.as_view(mode="bulk"), name="company_bulk"),
    path("companies/options/", views.company_options, name="company_options"),
    path("companies/<int:pk>/", views.company_detail, name="company_detail"),
    path("companies/<int:pk>/edit/", views.company_edit, name="company_edit"),
    path("companies/<int:pk>/archive/", views.company_archive, name="company_archive"),
    path("companies/<int:pk>/restore/", views.company_restore, name="company_restore"),
    path("companies/<int:pk>/history/", views.company_history, name="company_history"),
    path("companies/<int:pk>/fields/<str:name>/", views.CompanyField.as_view(), name="company_field"),
]
