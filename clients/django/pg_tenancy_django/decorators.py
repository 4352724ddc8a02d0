"""Views that need a role in the request's tenant: @require_role('admin') for
functions, RoleRequiredMixin for class-based views. Backed by tenancy.has_role,
so the database, not the view, decides."""
from functools import wraps

from django.core.exceptions import PermissionDenied

from .context import ROLES, has_role


def _require(request, role):
    """Raises PermissionDenied unless the actor has at least role in the request's tenant."""
    if not has_role(role):
        tenant = getattr(request, "tenant", None)
        raise PermissionDenied('this needs role "%s" or higher in tenant "%s"' % (role, tenant))


def require_role(role):
    """Decorates a view so that it runs only for actors with at least role
    (viewer < member < admin < owner) in the request's tenant; others get 403."""
    if role not in ROLES:
        raise ValueError("unknown tenancy role %r: expected one of %s" % (role, ", ".join(ROLES)))

    def decorator(view):
        """Wraps one view."""
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            """Checks the role, then runs the view."""
            _require(request, role)
            return view(request, *args, **kwargs)
        return wrapped
    return decorator


class RoleRequiredMixin:
    """For class-based views: set required_role = 'admin' (default 'member')."""

    required_role = "member"

    def dispatch(self, request, *args, **kwargs):
        """Checks the role, then dispatches as usual."""
        _require(request, self.required_role)
        return super().dispatch(request, *args, **kwargs)
