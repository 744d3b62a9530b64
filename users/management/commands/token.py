"""`crm token create --user NAME [--name LABEL]` prints the token alone on stdout;
`crm token revoke --id N` revokes one; `crm token list [--user NAME]`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from users.models import ApiToken, User
from users.services import token_create


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("--user")
        parser.add_argument("--name", default="")
        parser.add_argument("--id", type=int)

    def handle(self, *args, action, user, name, id, **options):
        account = None
        if user:
            account = User.objects.filter(username__iexact=user).first()
            if account is None:
                raise CommandError(f"No user named {user}.")
        if action == "create":
            if account is None:
                raise CommandError("Name the user: --user NAME")
            _, secret = token_create(actor=None, user=account, name=name or "command line")
            self.stdout.write(secret)
        elif action == "list":
            tokens = ApiToken.objects.select_related("user")
            if account:
                tokens = tokens.filter(user=account)
            for token in tokens:
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.pk}\t{token.user.username}\t{token.prefix}…\t{token.name}\t{state}"
                )
        else:
            if id is None or not ApiToken.objects.filter(pk=id).update(revoked_at=timezone.now()):
                raise CommandError("No token with that --id.")
            self.stdout.write(f"Revoked token {id}.")
