"""Creates the pg_tenancy extension when the database does not have it yet.
Depend on this migration from every migration that protects a table."""
from django.db import migrations

from pg_tenancy_django.operations import EnsureExtension


class Migration(migrations.Migration):
    """The pg_tenancy extension."""

    initial = True
    dependencies = []
    operations = [EnsureExtension()]
