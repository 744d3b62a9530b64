"""Template context shared by every page: the navigation by area."""

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# Each area of the CRM, in navigation order. Areas still to come show as "soon" until their app
# registers a URL name.
NAVIGATION = [
    (
        _("Customers"),
        [
            ("contacts", _("Contacts"), "contacts:contact_list", "users"),
            ("companies", _("Companies"), "contacts:company_list", "building"),
            ("orders", _("Orders"), "commerce:order_list", "inbox"),
            ("products", _("Products"), "commerce:product_list", "tag"),
            ("duplicates", _("Duplicates"), "dedupe:group_list", "copy"),
        ],
    ),
    (
        _("Sales"),
        [
            ("leads", _("Leads"), "sales:lead_list", "target"),
            ("deals", _("Deals"), "sales:deal_board", "columns"),
            ("tasks", _("Tasks"), "activities:task_list", "check"),
        ],
    ),
    (
        _("Marketing"),
        [
            ("segments", _("Segments"), "marketing:segment_list", "filter"),
            ("campaigns", _("Campaigns"), "marketing:campaign_list", "send"),
        ],
    ),
    (
        _("Service"),
        [
            ("cases", _("Cases"), "service:case_list", "lifebuoy"),
        ],
    ),
    (
        _("Insights"),
        [
            ("reports", _("Reports"), "analytics:report_list", "bar-chart"),
            ("dashboards", _("Dashboards"), "analytics:dashboard", "grid"),
        ],
    ),
    (
        _("Admin"),
        [
            ("imports", _("Imports"), "imports:import_list", "download"),
            ("automation", _("Automation"), "automation:rule_list", "zap"),
            ("settings", _("Settings"), "users:settings", "settings"),
        ],
    ),
]


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    sections = []
    for title, items in NAVIGATION:
        entries = []
        for key, label, url_name, icon in items:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
            entries.append({"key": key, "label": label, "url": url, "icon": icon})
        sections.append({"title": title, "items": entries})
    return {"navigation": sections}
