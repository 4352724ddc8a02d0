"""manage.py assign_user_to_tenant SLUG USER [--role member]"""
from django.db import IntegrityError, transaction

from ..base import TenancyCommand
from .create_tenant import actor_name

ROLES = ["viewer", "member", "admin", "owner"]


class Command(TenancyCommand):
    """Makes a user a member of a tenant, or changes the role of a member."""

    help = "Adds a Django user (by username; --raw-actor for any actor) to a tenant with a role, or changes its role."

    def add_arguments(self, parser):
        """Declares the tenant, the user and the role."""
        parser.add_argument("slug", help="The tenant's slug.")
        parser.add_argument("user", help="Django username.")
        parser.add_argument("--raw-actor", action="store_true", help="USER is an actor name, not a Django username.")
        parser.add_argument("--role", default="member", choices=ROLES, help="Role (default: member).")
        super().add_arguments(parser)

    def run(self, cursor, *args, **options):
        """Adds the membership or, when the actor is a member already, sets its role."""
        actor = actor_name(options["user"], options["raw_actor"])
        try:
            with transaction.atomic(using=options["database"]):
                cursor.execute("SELECT tenancy.add_member(%s, %s, %s::tenancy.role)",
                               [options["slug"], actor, options["role"]])
        except IntegrityError:
            # unique_violation: "actor ... is already a member of tenant ..."
            cursor.execute("SELECT tenancy.set_member_role(%s, %s, %s::tenancy.role)",
                           [options["slug"], actor, options["role"]])
            self.stdout.write("%s is now %s of tenant %s" % (actor, options["role"], options["slug"]))
            return
        self.stdout.write("added %s to tenant %s as %s" % (actor, options["slug"], options["role"]))
