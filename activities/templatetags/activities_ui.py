"""Template helpers of the activities app."""

from django import template

from activities.models import Activity

register = template.Library()


@register.filter
def div60(value) -> int:
    """Seconds → whole minutes (rounded)."""
    try:
        return round(int(value) / 60)
    except (TypeError, ValueError):
        return 0


@register.filter
def kind_label(value) -> str:
    try:
        return Activity.Kind(value).label
    except ValueError:
        return str(value)


@register.simple_tag(takes_context=True)
def notifications_unread(context) -> int:
    from activities.queries import unread_count

    request = context.get("request")
    return unread_count(getattr(request, "user", None)) if request is not None else 0
