"""The notes app: tenant data, protected by pg_tenancy."""
from django.apps import AppConfig


class NotesConfig(AppConfig):
    """Registers the notes app."""

    name = "notes"
    default_auto_field = "django.db.models.BigAutoField"
