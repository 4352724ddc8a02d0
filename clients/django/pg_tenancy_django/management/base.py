"""What the pg_tenancy management commands share: the --database option, an
optional --actor (for service roles), and database refusals printed as errors."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections, transaction

from ..conf import setting


def shown(text):
    """Returns text with control characters escaped as psql does (\x1B), so
    that a tenant name cannot send escape sequences to the operator's terminal."""
    return "".join("\\x%02X" % ord(c) if ord(c) < 32 or 127 <= ord(c) < 160 else c for c in text)


class TenancyCommand(BaseCommand):
    """A management command that calls pg_tenancy functions in one transaction."""

    def add_arguments(self, parser):
        """Adds --database and --actor to the command's own arguments."""
        parser.add_argument("--database", default=setting("TENANCY_DATABASE"),
                            help="Database alias to run on (default: TENANCY_DATABASE).")
        parser.add_argument("--actor", default=None,
                            help="Act for this actor (a service role naming e.g. a tenant admin); "
                                 "default: the database role itself.")

    def handle(self, *args, **options):
        """Runs run() in a transaction, the actor set for it; refusals become CommandError."""
        alias = options["database"]
        if options["actor"] is not None and not options["actor"].strip():
            # An empty actor would make the database judge the role itself.
            raise CommandError("--actor must name an actor")
        try:
            with transaction.atomic(using=alias):
                with connections[alias].cursor() as cursor:
                    if options["actor"] is not None:
                        cursor.execute("SELECT set_config('tenancy.actor', %s, true)", [options["actor"]])
                    return self.run(cursor, *args, **options)
        except DatabaseError as error:
            cause = error.__cause__ or error
            message = str(cause).strip()
            context = message.find("\nCONTEXT:")
            raise CommandError(message[:context] if context >= 0 else message) from error

    def run(self, cursor, *args, **options):
        """Does the command's work with a cursor inside the transaction."""
        raise NotImplementedError

    def print_rows(self, cursor, as_json):
        """Prints the cursor's rows as an aligned table, or as a JSON array."""
        names = [column[0] for column in cursor.description]
        rows = cursor.fetchall()
        if as_json:
            self.stdout.write(json.dumps([dict(zip(names, row)) for row in rows], default=str, indent=2))
            return
        if not rows:
            self.stdout.write("(none)")
            return
        cells = [[("" if value is None else shown(str(value))) for value in row] for row in rows]
        widths = [max(len(name), *(len(row[i]) for row in cells)) for i, name in enumerate(names)]
        self.stdout.write("  ".join(name.ljust(width) for name, width in zip(names, widths)).rstrip())
        self.stdout.write("  ".join("-" * width for width in widths))
        for row in cells:
            self.stdout.write("  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip())
