"""Two protected models, showing both ways to handle tenant_id: leave it off
the model (Project), or declare it as a TenantIdField (Note). Either way the
database fills it from tenancy.current_tenant_id() and its policies check it;
no queryset is ever filtered by tenant in Python."""
from django.db import models

from pg_tenancy_django.fields import TenantIdField


class Project(models.Model):
    """A tenant's project; tenant_id exists only in the database."""

    name = models.CharField(max_length=100)

    def __str__(self):
        """Returns the project's name."""
        return self.name


class Note(models.Model):
    """A tenant's note; tenant_id is readable (filled by the database)."""

    tenant_id = TenantIdField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)

    def __str__(self):
        """Returns the note's title."""
        return self.title
