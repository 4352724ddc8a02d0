"""TenantIdField: declare tenant_id on a model without Django ever sending it.
On INSERT the column's DEFAULT (tenancy.current_tenant_id()) applies and the
value comes back with RETURNING; the database's policies check it."""
from django.db import models
from django.db.models.expressions import Expression


class DatabaseDefault(Expression):
    """The SQL keyword DEFAULT as a value in INSERT ... VALUES."""

    def as_sql(self, compiler, connection):
        """Compiles to DEFAULT, with no parameters."""
        return "DEFAULT", []


class TenantIdField(models.UUIDField):
    """The tenant_id column pg_tenancy's protect() adds, read-only for Django:
    never in forms, DEFAULT on INSERT (also in bulk_create), read back after it."""

    db_returning = True

    def __init__(self, *args, **kwargs):
        """Makes the field non-editable and blank: the database fills it."""
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        """Sends DEFAULT while the instance has no tenant id (INSERT, or an UPDATE
        of an instance built by hand: the row keeps the current tenant), the
        value otherwise (the policies refuse another tenant's id)."""
        value = getattr(model_instance, self.attname)
        if value is None:
            return DatabaseDefault()
        return value
