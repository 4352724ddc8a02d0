"""The admin: the same ModelAdmin for every tenant; the database shows each
tenant's staff only their tenant's rows."""
from django.contrib import admin

from .models import Note, Project


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    """Notes, with their tenant id read-only."""

    list_display = ("title", "tenant_id")
    readonly_fields = ("tenant_id",)


admin.site.register(Project)
