"""`manage.py create_api_key "ORG NAME"`: the organisation is created if missing; the key is the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from adstudio.orgs.models import ApiKey, Organisation


class Command(BaseCommand):
    help = "Create an API key for an organisation (created if missing). The key, shown once, is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="The organisation's name")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["organisation"].strip()
        if not name:
            raise CommandError("Please give the organisation's name.")
        organisation, created = Organisation.objects.get_or_create(name=name)
        key, secret = ApiKey.issue(organisation)
        self.stdout.write(f"{'Created' if created else 'Found'} organisation {organisation.name!r}.")
        self.stdout.write(f"API key {key.prefix}... created. Copy it now: it is shown only once.")
        self.stdout.write(secret)
