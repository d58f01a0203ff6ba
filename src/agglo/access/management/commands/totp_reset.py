from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from agglo.access.login import totp_reset


class Command(BaseCommand):
    help = (
        "Take away a user's two-factor login (a lost authenticator): it is set up again at the next login. "
        "agglo totp_reset USERNAME --reason TEXT"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, for the audit trail (say how the user was verified)")

    def handle(self, *args, username, reason, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"username: no user named {username!r}")
        if not reason.strip():
            raise CommandError("--reason: say why, for the audit trail")
        had = totp_reset(user, by=f"command line: {reason.strip()[:200]}")
        self.stdout.write(
            f"{username}: two-factor login removed; the next login sets it up again"
            if had
            else f"{username}: had no two-factor login set up; its sessions were ended"
        )
