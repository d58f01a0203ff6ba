from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agglo.access.tokens import api_token_create
from agglo.common.commands import in_english
from agglo.common.errors import DomainError


class Command(BaseCommand):
    help = "Issue an API bearer token for a user (printed once): agglo token USERNAME --name NAME"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    @in_english
    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user named {username!r}")
        if not user.is_active:  # its token would be refused at every request
            raise CommandError(f"username: {username!r} is deactivated; activate the account first")
        try:
            _, clear = api_token_create(actor=user, user=user, name=name)
        except DomainError as exc:
            raise CommandError(exc.summary()) from exc
        self.stdout.write(clear)
