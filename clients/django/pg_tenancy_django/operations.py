"""Migration operations: EnsureExtension (CREATE EXTENSION pg_tenancy when it
is missing) and Protect (tenancy.protect() on a model's table)."""
from django.db import ProgrammingError
from django.db.migrations.operations.base import Operation


class EnsureExtension(Operation):
    """Creates the pg_tenancy extension if the database does not have it yet.
    Creating it needs a superuser; when the migration's role cannot, the error
    says what to run. Never dropped on reverse: tenants outlive a rollback."""

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        """Changes no model state."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        """Creates the extension when it is not installed."""
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'pg_tenancy')")
            if cursor.fetchone()[0]:
                return
        try:
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_tenancy")
        except ProgrammingError as error:
            raise ProgrammingError(
                "the pg_tenancy extension is missing and this role cannot create it (%s); run "
                "CREATE EXTENSION pg_tenancy; in this database as a superuser, then migrate again"
                % str(error).strip().splitlines()[0]) from error

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        """Leaves the extension in place."""

    def describe(self):
        """Describes the operation for `manage.py migrate --plan`."""
        return "Create the pg_tenancy extension if missing"


class Protect(Operation):
    """Protects a model's table with tenancy.protect(): tenant_id, forced row
    level security, policies, audit. Reversed by tenancy.unprotect() (platform
    admins only)."""

    reversible = True
    reduces_to_sql = True

    def __init__(self, model_name, read_role="viewer", write_role="member", delete_role="admin", audit=True):
        """Keeps the model and the roles of its policies."""
        self.model_name = model_name
        self.read_role = read_role
        self.write_role = write_role
        self.delete_role = delete_role
        self.audit = audit

    def deconstruct(self):
        """Returns how to rebuild the operation in a migration file."""
        kwargs = {"model_name": self.model_name}
        for name, default in (("read_role", "viewer"), ("write_role", "member"), ("delete_role", "admin"),
                              ("audit", True)):
            if getattr(self, name) != default:
                kwargs[name] = getattr(self, name)
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label, state):
        """Changes no model state: the column stays off the model (or is a TenantIdField)."""

    def _table(self, app_label, state):
        """Returns the quoted table name of the model in a migration state."""
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        """Runs tenancy.protect() on the table."""
        table = schema_editor.quote_name(self._table(app_label, to_state))
        schema_editor.execute(
            "SELECT tenancy.protect(%s::regclass, read_role => %s, write_role => %s, delete_role => %s, "
            "audit => %s)", [table, self.read_role, self.write_role, self.delete_role, self.audit])

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        """Runs tenancy.unprotect() on the table."""
        table = schema_editor.quote_name(self._table(app_label, from_state))
        schema_editor.execute("SELECT tenancy.unprotect(%s::regclass)", [table])

    def describe(self):
        """Describes the operation for `manage.py migrate --plan`."""
        return "Protect %s with pg_tenancy" % self.model_name

    @property
    def migration_name_fragment(self):
        """Names auto-named migrations after the protected model."""
        return "protect_%s" % self.model_name.lower()
