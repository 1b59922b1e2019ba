"""Provenance facts for admin pages."""

from __future__ import annotations

from django import template

from adstudio.trust.provenance import C2paStatus, c2pa_status

register = template.Library()


@register.simple_tag
def c2pa_state() -> C2paStatus:
    return c2pa_status()
