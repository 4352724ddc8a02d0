"""How a request names its tenant: by host (tenancy.resolve_domain), by header,
by path prefix, or by a function of the project's own."""
import re

from django.db import connections
from django.urls import get_script_prefix, set_script_prefix
from django.utils.module_loading import import_string

from .conf import setting


def from_host(request, alias):
    """Returns the slug of the tenant the request's Host header (port ignored
    by the database) is assigned to, or None."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT tenancy.resolve_domain(%s)", [request.get_host()])
        return cursor.fetchone()[0]


# What can name a tenant: a slug or a uuid (the database checks the details).
TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$|^[0-9A-Fa-f-]{32,36}$")


def _tenant_name(value):
    """Returns value when it can name a tenant, None otherwise (no tenant: 404)."""
    value = (value or "").strip()
    return value if TENANT_NAME.match(value) else None


def from_header(request, alias):
    """Returns the slug or uuid named by the TENANCY_HEADER header, or None.
    The middleware has the database validate it and the actor's membership."""
    return _tenant_name(request.headers.get(setting("TENANCY_HEADER"), ""))


def from_path(request, alias):
    """Returns the slug in a path /<TENANCY_PATH_PREFIX>/<slug>/..., or None.
    The prefix and slug leave request.path_info and join the script prefix, so
    that the URLconf and reverse() see the site as if mounted there."""
    prefix = re.escape(setting("TENANCY_PATH_PREFIX").strip("/"))
    match = re.match(r"^/%s/(?P<slug>[^/]+)(?P<rest>/.*)?$" % prefix, request.path_info)
    if not match or _tenant_name(match.group("slug")) is None:
        return None
    mounted = match.group(0)[: len(match.group(0)) - len(match.group("rest") or "")]
    request.path_info = match.group("rest") or "/"
    request.tenancy_script_prefix = get_script_prefix()
    set_script_prefix(request.tenancy_script_prefix.rstrip("/") + mounted + "/")
    return match.group("slug")


STRATEGIES = {"host": from_host, "header": from_header, "path": from_path}


def resolver():
    """Returns the function that TENANCY_TENANT_RESOLVER names."""
    name = setting("TENANCY_TENANT_RESOLVER")
    if callable(name):
        return lambda request, alias: name(request)
    if name in STRATEGIES:
        return STRATEGIES[name]
    custom = import_string(name)
    return lambda request, alias: custom(request)


def restore_script_prefix(request):
    """Puts back the script prefix that from_path() extended, if it did."""
    previous = getattr(request, "tenancy_script_prefix", None)
    if previous is not None:
        set_script_prefix(previous)
