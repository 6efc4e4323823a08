"""System checks for settings whose mistakes Django cannot see (`manage.py check --deploy`)."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def notification_base_url_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Links in coordinator e-mails must reach the staff UI from the coordinators' machines."""
    url = urlsplit(settings.NOTIFICATION_BASE_URL)
    host = url.hostname or ""
    problems = []
    if url.scheme != "https":
        problems.append("is not an https:// URL")
    if host == "localhost" or host.endswith(".localhost") or _is_loopback(host):
        problems.append("points at this machine (loopback)")
    if not problems:
        return []
    return [
        Warning(
            f"NOTIFICATION_BASE_URL ({settings.NOTIFICATION_BASE_URL!r}) {' and '.join(problems)}: "
            "links in coordinator e-mails would not open for them.",
            hint="Set NOTIFICATION_BASE_URL to the staff UI's public address, "
            "e.g. https://intake.example.org.",
            id="intake.W001",
        )
    ]


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
