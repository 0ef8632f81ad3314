"""`azukari api token create|list|revoke`: issue integration tokens; the secret is printed once."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from azukari.api.models import ApiToken, Scope
from azukari.api.services import api_token_create, api_token_revoke
from azukari.core.errors import DomainError
from azukari.org.models import Client, User


class Command(BaseCommand):
    help = "Manage API tokens of integrations."

    def add_arguments(self, parser: CommandParser) -> None:
        areas = parser.add_subparsers(dest="area", required=True)
        token = areas.add_parser("token", help="API tokens")
        actions = token.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Issue a token; prints it once")
        owner = create.add_mutually_exclusive_group(required=True)
        owner.add_argument("--client", help="Code of the client the token belongs to")
        owner.add_argument(
            "--center-clients",
            help="Comma-separated client codes a center token (e.g. the PBX) serves",
        )
        create.add_argument(
            "--scopes",
            required=True,
            help="Comma-separated scopes: " + ", ".join(Scope.values) + ", or 'all'",
        )
        create.add_argument("--name", help="What the integration is (default: from the client)")
        create.add_argument(
            "--issued-by",
            required=True,
            help="Username of the manager or administrator issuing it (recorded on the token)",
        )
        actions.add_parser("list", help="List tokens (never their secrets)")
        revoke = actions.add_parser("revoke", help="Revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args, **options) -> None:
        action = options["action"]
        if action == "create":
            self._create(options)
        elif action == "list":
            for token in ApiToken.objects.select_related("client").order_by("created_at"):
                owner = token.client.code if token.client else "center"
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.prefix}\t{owner}\t{state}\t{token.name}\t{','.join(token.scopes)}"
                )
        elif action == "revoke":
            token = ApiToken.objects.filter(prefix=options["prefix"]).first()
            if token is None:
                raise CommandError(f"No token with prefix {options['prefix']!r}.")
            api_token_revoke(token=token)
            self.stdout.write(self.style.SUCCESS(f"Revoked {token.prefix}."))

    def _clients(self, codes: str) -> list[Client]:
        wanted = [c.strip() for c in codes.split(",") if c.strip()]
        found = {c.code: c for c in Client.objects.filter(code__in=wanted)}
        missing = [c for c in wanted if c not in found]
        if missing:
            raise CommandError(f"Unknown client code(s): {', '.join(missing)}")
        return [found[c] for c in wanted]

    def _create(self, options) -> None:
        raw_scopes = options["scopes"].strip()
        scopes = Scope.values if raw_scopes == "all" else raw_scopes.split(",")
        client = self._clients(options["client"])[0] if options["client"] else None
        center = self._clients(options["center_clients"]) if options["center_clients"] else []
        name = options["name"] or (f"{client.code} integration" if client else "center PBX")
        issuer = User.objects.filter(username=options["issued_by"]).first()
        if issuer is None:
            raise CommandError(f"--issued-by: no user {options['issued_by']!r}.")
        if raw_scopes == "all" and client is not None:
            scopes = [s for s in scopes if s != Scope.SITES_FAILOVER]  # center tokens only
        try:
            token, raw = api_token_create(
                name=name, scopes=scopes, client=client, center_clients=center, created_by=issuer
            )
        except DomainError as exc:
            raise CommandError(f"{exc.field}: {exc}") from exc
        self.stderr.write(f"Token {token.prefix} for {name}; copy it now, it is not shown again:")
        self.stdout.write(raw)
