"""manage.py create_tenant SLUG NAME [--owner USER] [--plan P] [--isolation row] [--domain HOST]..."""
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from ...actors import actor_of_user
from ..base import TenancyCommand


def actor_name(name, raw=False):
    """Returns the actor of the Django user named name (TENANCY_ACTOR). With
    raw, name is the actor itself. A name that is no Django user is refused
    otherwise: a membership given to a name nobody has yet would go to
    whoever registers it first."""
    if raw:
        return name
    user_model = get_user_model()
    try:
        user = user_model._default_manager.get_by_natural_key(name)
    except user_model.DoesNotExist:
        raise CommandError('no Django user is named "%s"; create the user first, or pass --raw-actor to name '
                           "an actor directly" % name)
    return actor_of_user(user)


class Command(TenancyCommand):
    """Creates a tenant with tenancy.create_tenant() (platform admins only)."""

    help = "Creates a pg_tenancy tenant, optionally with its first owner and its domains."

    def add_arguments(self, parser):
        """Declares the tenant's slug, name, owner, plan, isolation and domains."""
        parser.add_argument("slug", help="Lowercase slug, e.g. acme.")
        parser.add_argument("name", help="Display name, e.g. \"Acme Corp\".")
        parser.add_argument("--owner", help="Django username of the first owner.")
        parser.add_argument("--raw-actor", action="store_true",
                            help="--owner is an actor name, not a Django username.")
        parser.add_argument("--plan", default="basic", help="Plan name (default: basic).")
        parser.add_argument("--isolation", default="row", choices=["row", "schema", "database"],
                            help="Isolation mode (default: row).")
        parser.add_argument("--domain", action="append", default=[],
                            help="Host name routed to the tenant (repeatable).")
        super().add_arguments(parser)

    def run(self, cursor, *args, **options):
        """Creates the tenant and assigns its domains in one transaction."""
        owner = actor_name(options["owner"], options["raw_actor"]) if options["owner"] else None
        cursor.execute("SELECT tenancy.create_tenant(%s, %s, owner => %s, plan => %s, "
                       "isolation => %s::tenancy.isolation)",
                       [options["slug"], options["name"], owner, options["plan"], options["isolation"]])
        tenant_id = cursor.fetchone()[0]
        for host in options["domain"]:
            cursor.execute("SELECT tenancy.add_domain(%s, %s)", [options["slug"], host])
        self.stdout.write("created tenant %s (%s)" % (options["slug"], tenant_id))
