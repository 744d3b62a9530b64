from django.urls import path

from . import views

app_name = "commerce"

urlpatterns = [
    path("products/", views.ProductList.as_view(), name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/export.csv", views.ProductList.as_view(mode="export"), name="product_export"),
    path("products/bulk/", views.ProductList.as_view(mode="bulk"), name="product_bulk"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/archive/", views.product_archive, name="product_archive"),
    path("products/<int:pk>/restore/", views.product_restore, name="product_restore"),
    path("orders/", views.OrderList.as_view(), name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/export.csv", views.OrderList.as_view(mode="export"), name="order_export"),
    path("orders/bulk/", views.OrderList.as_view(mode="bulk"), name="order_bulk"),
    path("orders/line/", views.order_line, name="order_line"),
    path("orders/contacts/", views.contact_options, name="contact_options"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/archive/", views.order_archive, name="order_archive"),
    path("orders/<int:pk>/restore/", views.order_restore, name="order_restore"),
]
