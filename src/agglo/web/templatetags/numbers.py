"""Numbers in templates, grouped as readers read them (`agglo.common.numbers`)."""

from __future__ import annotations

from django import template

from agglo.common.numbers import grouped

register = template.Library()
register.filter("grouped", grouped)
