"""Creates the notes tables and protects them with pg_tenancy."""
from django.db import migrations, models

import pg_tenancy_django.fields
from pg_tenancy_django.operations import Protect


class Migration(migrations.Migration):
    """Project and Note, protected."""

    initial = True
    dependencies = [("pg_tenancy_django", "0001_extension")]
    operations = [
        migrations.CreateModel(
            name="Project",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
            ],
        ),
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tenant_id", pg_tenancy_django.fields.TenantIdField(blank=True, editable=False)),
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
            ],
        ),
        Protect("project"),
        Protect("note"),
    ]
