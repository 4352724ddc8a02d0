"""manage.py tenant_health_check [--json] [--fail-on-warning]"""
from django.core.management.base import CommandError

from ..base import TenancyCommand, shown


class Command(TenancyCommand):
    """Runs tenancy.health_check(); fails (exit 1) when it finds an error."""

    help = "Checks how tables are protected (tenancy.health_check()); exit status 1 on errors."

    def add_arguments(self, parser):
        """Declares --json and --fail-on-warning."""
        parser.add_argument("--json", action="store_true", help="Print a JSON array.")
        parser.add_argument("--fail-on-warning", action="store_true", help="Exit 1 on warnings too.")
        super().add_arguments(parser)

    def run(self, cursor, *args, **options):
        """Prints the findings and raises CommandError when they fail the check."""
        cursor.execute("SELECT severity, object, problem, hint FROM tenancy.health_check()")
        rows = cursor.fetchall()
        names = [column[0] for column in cursor.description]
        if options["json"]:
            import json
            self.stdout.write(json.dumps([dict(zip(names, row)) for row in rows], indent=2))
        elif not rows:
            self.stdout.write("health check: no problems found")
        else:
            for severity, obj, problem, hint in rows:
                self.stdout.write(shown("%s: %s: %s" % (severity, obj, problem))
                                  + ("\n  hint: " + shown(hint) if hint else ""))
        failing = [row for row in rows if row[0] == "error" or options["fail_on_warning"]]
        if failing:
            raise CommandError("health check found %d problem(s)" % len(failing))
