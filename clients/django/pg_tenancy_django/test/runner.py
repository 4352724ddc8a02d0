"""TenancyTestRunner: `manage.py test` on a database that has pg_tenancy.

The test database is copied from TENANCY_TEST_TEMPLATE, a template database
that a superuser prepared once with the extension and this project's rights
(`manage.py tenancy_test_template` prints the SQL), so that the test role needs
only CREATEDB. Serializing the database for TransactionTestCase is turned off:
protected tables cannot be read without a tenant, and are empty after
migrations anyway."""
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test.runner import DiscoverRunner

from ..conf import setting


class TenancyTestRunner(DiscoverRunner):
    """DiscoverRunner whose PostgreSQL test databases come from the pg_tenancy template."""

    def setup_databases(self, **kwargs):
        """Points every PostgreSQL alias at the template, checks it exists, then sets up as usual."""
        template = setting("TENANCY_TEST_TEMPLATE")
        for alias in connections:
            connection = connections[alias]
            if connection.vendor != "postgresql":
                continue
            test = connection.settings_dict.setdefault("TEST", {})
            if test.get("MIRROR"):
                continue
            test.setdefault("TEMPLATE", template)
            test.setdefault("SERIALIZE", False)
            self._require_template(connection, test["TEMPLATE"])
        return super().setup_databases(**kwargs)

    @staticmethod
    def _require_template(connection, template):
        """Raises a clear error when the template database does not exist."""
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT FROM pg_database WHERE datname = %s)", [template])
            if cursor.fetchone()[0]:
                return
        raise ImproperlyConfigured(
            'the test template database "%s" does not exist; create it once as a superuser with: '
            "python3 manage.py tenancy_test_template | psql -U postgres" % template)
