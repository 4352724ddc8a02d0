"""The Django application that carries pg_tenancy's migration and commands."""
from django.apps import AppConfig


class PgTenancyConfig(AppConfig):
    """Registers the package: its migration creates the extension when missing."""

    name = "pg_tenancy_django"
    label = "pg_tenancy_django"
    verbose_name = "pg_tenancy"

    def ready(self):
        """Registers the system checks."""
        from . import checks  # noqa: F401
