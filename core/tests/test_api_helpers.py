"""core.api helpers that the record endpoints share."""

from __future__ import annotations

from django.urls import clear_script_prefix, reverse, set_script_prefix

from core.api import url_maker


def test_url_maker_fills_the_reversed_pattern_and_follows_the_script_prefix():
    make = url_maker("contacts:contact_detail")
    assert make(42) == reverse("contacts:contact_detail", args=[42])
    assert url_maker("contacts:contact_detail") is make  # reversed once per process and prefix
    try:
        set_script_prefix("/crm/")
        prefixed = url_maker("contacts:contact_detail")
        assert prefixed(7) == reverse("contacts:contact_detail", args=[7])
        assert prefixed(7).startswith("/crm/")
    finally:
        clear_script_prefix()
    assert url_maker("contacts:contact_detail")(7) == make(7) and not make(7).startswith("/crm/")
