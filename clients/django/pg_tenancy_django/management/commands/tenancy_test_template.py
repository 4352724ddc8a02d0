"""manage.py tenancy_test_template: prints the SQL that prepares the template
database `manage.py test` copies (run it once, as a superuser, with psql)."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from ...conf import setting


def quote_ident(name):
    """Quotes an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text):
    """Quotes an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class Command(BaseCommand):
    """Prints psql input that creates the pg_tenancy test template database."""

    help = ("Prints the SQL (for psql, as a superuser) that creates the template database manage.py test "
            "copies: the pg_tenancy extension, the project's role as a service role and, in test "
            "databases only, as a platform admin that can create tenants.")

    def add_arguments(self, parser):
        """Declares --database, --role and --template."""
        parser.add_argument("--database", default=setting("TENANCY_DATABASE"),
                            help="Alias whose USER runs the tests (default: TENANCY_DATABASE).")
        parser.add_argument("--role", help="Database role of the tests (default: the alias's USER).")
        parser.add_argument("--template", default=setting("TENANCY_TEST_TEMPLATE"),
                            help="Template database name (default: TENANCY_TEST_TEMPLATE).")

    def handle(self, *args, **options):
        """Writes the script to standard output."""
        role = options["role"] or connections[options["database"]].settings_dict["USER"]
        template = options["template"]
        used = {database.get("NAME") for database in settings.DATABASES.values()}
        if template in used:
            raise CommandError('"%s" is a database of this project; the template needs a name of its own'
                               % template)
        self.stdout.write("\n".join([
            "-- pg_tenancy test template for Django's manage.py test (run once, as a superuser)",
            "\\set ON_ERROR_STOP on",
            "ALTER ROLE %s CREATEDB;" % quote_ident(role),
            "SELECT format('ALTER DATABASE %%I IS_TEMPLATE false', datname) FROM pg_database "
            "WHERE datname = %s \\gexec" % quote_literal(template),
            "DROP DATABASE IF EXISTS %s;" % quote_ident(template),
            "CREATE DATABASE %s;" % quote_ident(template),
            "\\connect %s" % quote_ident(template),
            "CREATE EXTENSION pg_tenancy;",
            "SELECT tenancy.grant_service(%s);" % quote_literal(role),
            "-- Test databases only: the tests create their tenants and members.",
            "SELECT tenancy.grant_platform_admin(%s);" % quote_literal(role),
            "\\connect postgres",
            "-- Nobody connects to the template itself; CREATE DATABASE ... TEMPLATE still copies it.",
            "ALTER DATABASE %s IS_TEMPLATE true ALLOW_CONNECTIONS false;" % quote_ident(template),
        ]))
