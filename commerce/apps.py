from django.apps import AppConfig


class CommerceConfig(AppConfig):
    name = "commerce"
    verbose_name = "Products, orders and purchase history"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from core import extensions

        from . import queries, views

        queries.register_customer_fields()
        views.register()
        extensions.register_tab(
            "contacts.contact",
            key="purchases",
            label=_("Purchases"),
            render=views.contact_purchases_tab,
            order=30,
        )
        extensions.register_tab(
            "contacts.company",
            key="purchases",
            label=_("Purchases"),
            render=views.company_purchases_tab,
            order=30,
        )
        extensions.register_panel(
            "contacts.contact", key="purchases", render=views.contact_purchases_panel, order=30
        )
        extensions.register_panel(
            "contacts.company", key="purchases", render=views.company_purchases_panel, order=30
        )
