"""manage.py list_tenants [--json]"""
from ..base import TenancyCommand


class Command(TenancyCommand):
    """Lists tenants (all for platform admins, one's own for others)."""

    help = "Lists the tenants with status, isolation, plan, member count and creation time."

    def add_arguments(self, parser):
        """Declares --json."""
        parser.add_argument("--json", action="store_true", help="Print a JSON array.")
        super().add_arguments(parser)

    def run(self, cursor, *args, **options):
        """Prints tenancy.tenant_list()."""
        cursor.execute("SELECT slug, name, status::text, isolation::text, plan, members, "
                       "date_trunc('second', created_at) AS created_at FROM tenancy.tenant_list()")
        self.print_rows(cursor, options["json"])
