"""TenancyMiddleware: each request runs in one transaction with its tenant and
actor selected by SET LOCAL, so that a pooled connection never carries them to
the next request. Place it after AuthenticationMiddleware, and set
ATOMIC_REQUESTS on TENANCY_DATABASE so that a failing view's writes roll back
whatever other middleware makes of its exception (checks.py says so)."""
import re

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.exception import response_for_exception
from django.db import connections, transaction
from django.http import Http404

from .actors import actor_for, is_anonymous
from .conf import setting
from .context import tenant_context
from .errors import refusal_of, response_for
from .resolvers import resolver, restore_script_prefix


class TenancyMiddleware:
    """Opens the request's transaction, resolves its tenant, selects tenant and
    actor for that transaction, has the database validate them before the view
    runs, and answers pg_tenancy's refusals with 4xx."""

    def __init__(self, get_response):
        """Keeps the next handler and compiles the exempt paths; refuses to run
        without ATOMIC_REQUESTS on TENANCY_DATABASE (system checks do not run
        under a WSGI server)."""
        alias = setting("TENANCY_DATABASE")
        if not settings.DATABASES.get(alias, {}).get("ATOMIC_REQUESTS"):
            raise ImproperlyConfigured(
                "TenancyMiddleware needs DATABASES[%r]['ATOMIC_REQUESTS'] = True: without it a view's "
                "writes commit when another middleware answers the view's exception" % alias)
        self.get_response = get_response
        self.exempt = [re.compile(pattern) for pattern in setting("TENANCY_EXEMPT_PATHS")]

    def __call__(self, request):
        """Runs the request inside a transaction with its tenant selected."""
        request.tenant = None
        if any(pattern.search(request.path_info) for pattern in self.exempt):
            return self.get_response(request)
        alias = setting("TENANCY_DATABASE")
        try:
            with transaction.atomic(using=alias):
                return self._in_transaction(request, alias)
        except Exception as exception:
            # Raised before the view (resolving, naming the actor, validating):
            # the transaction is rolled back; refusals become 4xx.
            refusal = refusal_of(exception)
            if refusal is None:
                raise
            return response_for(request, refusal)
        finally:
            restore_script_prefix(request)

    def _in_transaction(self, request, alias):
        """Resolves and validates the tenant, then runs the rest of the chain."""
        slug = resolver()(request, alias)
        if slug is None and setting("TENANCY_REQUIRED"):
            return response_for_exception(request, Http404("no tenant is known for this address"))
        actor = actor_for(request) if setting("TENANCY_SET_ACTOR") else None
        with tenant_context(slug, actor=actor, using=alias) as tenant:
            request.tenant = self._validated(request, alias, tenant) if slug else None
            response = self.get_response(request)
            if response.status_code >= 500:
                # A server error commits nothing, as with ATOMIC_REQUESTS.
                transaction.set_rollback(True, using=alias)
            return response

    @staticmethod
    def _validated(request, alias, tenant):
        """Has the database validate the selected tenant for the actor before
        any view runs, so that request.tenant is never a tenant the actor may
        not use; a refusal propagates and is answered 4xx. An anonymous visitor
        who is no member of the tenant goes on with no tenant instead (login
        pages work, tenant data fails closed), asked through my_tenants() so
        that an ordinary visit is not recorded as a denied access."""
        with connections[alias].cursor() as cursor:
            if is_anonymous(request) and setting("TENANCY_SET_ACTOR"):
                cursor.execute("SELECT EXISTS (SELECT FROM tenancy.my_tenants() t "
                               "WHERE t.slug = %s OR t.tenant_id::text = lower(%s))", [tenant.slug, tenant.slug])
                if not cursor.fetchone()[0]:
                    cursor.execute("SELECT set_config('tenancy.tenant', '', true)")
                    return None
        tenant.validate()
        return tenant

    def process_exception(self, request, exception):
        """Answers a pg_tenancy refusal raised by the view with 400/403/404
        instead of a server error. The view's writes were rolled back with its
        ATOMIC_REQUESTS savepoint; a view exempted from it with
        @transaction.non_atomic_requests rolls back the request's transaction."""
        alias = setting("TENANCY_DATABASE")
        match = getattr(request, "resolver_match", None)
        if match is not None and alias in getattr(match.func, "_non_atomic_requests", set()) \
                and connections[alias].in_atomic_block:
            transaction.set_rollback(True, using=alias)
        refusal = refusal_of(exception)
        return response_for(request, refusal) if refusal else None
