"""`manage.py api_keys list [ORG]` and `manage.py api_keys revoke PREFIX`: keys by prefix, never the secret."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adstudio.orgs.models import ApiKey


class Command(BaseCommand):
    help = "List API keys (by prefix) or revoke one."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("organisation", nargs="?", default="")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            keys = ApiKey.objects.select_related("organisation")
            if options["organisation"]:
                keys = keys.filter(organisation__name=options["organisation"])
            for key in keys:
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                self.stdout.write(f"{key.prefix}\t{key.organisation.name}\t{state}\tlast used {used}")
            return
        matches = list(ApiKey.objects.filter(prefix=options["prefix"]))
        if len(matches) != 1:
            raise CommandError(f"{len(matches)} keys have the prefix {options['prefix']!r}; give one key's prefix.")
        matches[0].revoke()
        self.stdout.write(f"Revoked {matches[0].prefix}... ({matches[0].organisation.name}).")
