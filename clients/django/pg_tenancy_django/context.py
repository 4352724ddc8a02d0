"""Selecting a tenant (and the actor) on a database connection, for the
current transaction only, as pg_tenancy asks of service roles."""
from contextlib import contextmanager

import psycopg2.extensions

from django.db import connections, transaction

from .conf import setting

ROLES = ("viewer", "member", "admin", "owner")


def _alias(using):
    """Returns the database alias to use: the given one or TENANCY_DATABASE."""
    return using or setting("TENANCY_DATABASE")


def _transaction_failed(connection):
    """Says whether the connection's transaction is aborted (a statement failed in it)."""
    raw = connection.connection
    if raw is None or not hasattr(raw, "get_transaction_status"):
        return False
    return raw.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR


@contextmanager
def tenant_context(tenant, actor=None, using=None):
    """Runs the block inside a transaction (a savepoint when one is open) with
    tenancy.tenant = tenant and, when actor is not None, tenancy.actor = actor,
    both SET LOCAL. Outside an open transaction the settings end with it; inside
    one (a test case, a nested call) the previous values are put back when the
    block ends normally, and rolled back with the savepoint when it raises."""
    if actor is not None and not str(actor).strip():
        # An empty actor would make the database judge the role itself.
        raise ValueError("tenant_context() needs a non-empty actor, or None to keep the current one")
    alias = _alias(using)
    connection = connections[alias]
    nested = connection.in_atomic_block
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            if nested:
                cursor.execute("SELECT coalesce(current_setting('tenancy.tenant', true), ''), "
                               "coalesce(current_setting('tenancy.actor', true), '')")
                previous_tenant, previous_actor = cursor.fetchone()
            if actor is not None:
                cursor.execute("SELECT set_config('tenancy.actor', %s, true)", [actor])
            cursor.execute("SELECT set_config('tenancy.tenant', %s, true)", [tenant or ""])
        yield Tenant(tenant, alias)
        if _transaction_failed(connection):
            # A statement failed outside any savepoint (Django's debug page
            # re-running a refused query, say): nothing can run any more, and
            # rolling back undoes the settings.
            transaction.set_rollback(True, using=alias)
        if nested and not transaction.get_rollback(using=alias):
            with connection.cursor() as cursor:
                if actor is not None:
                    cursor.execute("SELECT set_config('tenancy.actor', %s, true)", [previous_actor])
                cursor.execute("SELECT set_config('tenancy.tenant', %s, true)", [previous_tenant])


def has_role(role, using=None):
    """Says whether the actor's role in the selected tenant is at least role
    (tenancy.has_role). With no tenant selected, or for a non-member, the
    database refuses and the error propagates (the middleware maps it)."""
    if role not in ROLES:
        raise ValueError("unknown tenancy role %r: expected one of %s" % (role, ", ".join(ROLES)))
    with connections[_alias(using)].cursor() as cursor:
        cursor.execute("SELECT tenancy.has_role(%s::tenancy.role)", [role])
        return cursor.fetchone()[0]


class Tenant:
    """The tenant selected for a request (request.tenant): its slug, and its id
    and the actor's role read from the database when first asked."""

    def __init__(self, slug, using=None):
        """Remembers the slug and the database alias it is selected on."""
        self.slug = slug
        self.using = _alias(using)
        self._id = None
        self._role = None

    def __str__(self):
        """Returns the slug."""
        return self.slug or ""

    def __repr__(self):
        """Returns a readable representation for logs and the shell."""
        return "<Tenant %s>" % (self.slug,)

    def _value(self, sql):
        """Runs a one-value query on the tenant's connection."""
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    @property
    def id(self):
        """The tenant's uuid (tenancy.current_tenant_id()), validated by the database."""
        if self._id is None:
            self._id = self._value("SELECT tenancy.current_tenant_id()")
        return self._id

    @property
    def role(self):
        """The actor's role in the tenant (tenancy.current_role()): viewer, member, admin or owner."""
        if self._role is None:
            self._role = self._value("SELECT tenancy.current_role()::text")
        return self._role

    def has_role(self, role):
        """Says whether the actor's role is at least role."""
        return has_role(role, self.using)

    def validate(self):
        """Asks the database to validate the selection now (membership, status)
        and remembers the actor's role; raises the database's refusal."""
        with connections[self.using].cursor() as cursor:
            cursor.execute("SELECT tenancy.current_role()::text, tenancy.current_tenant_id()")
            self._role, self._id = cursor.fetchone()
