"""System checks (manage.py check): the settings TenancyMiddleware relies on."""
from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

from .conf import setting

def _tenancy_middleware_position():
    """Returns the index in MIDDLEWARE of TenancyMiddleware or a subclass of it, or None."""
    from .middleware import TenancyMiddleware

    for index, path in enumerate(settings.MIDDLEWARE):
        try:
            middleware = import_string(path)
        except ImportError:
            continue
        if isinstance(middleware, type) and issubclass(middleware, TenancyMiddleware):
            return index
    return None


@checks.register()
def check_settings(app_configs, **kwargs):
    """Reports settings that would weaken the middleware's guarantees."""
    position = _tenancy_middleware_position()
    if position is None:
        return []
    errors = []
    alias = setting("TENANCY_DATABASE")
    database = settings.DATABASES.get(alias)
    if database is None:
        return [checks.Error("TENANCY_DATABASE names no database: %r" % alias, id="pg_tenancy_django.E002")]
    if not database.get("ATOMIC_REQUESTS"):
        errors.append(checks.Error(
            "DATABASES[%r]['ATOMIC_REQUESTS'] must be True with TenancyMiddleware" % alias,
            hint="Without it, a view's writes commit when a middleware turns the view's exception into a "
                 "response before TenancyMiddleware sees it.",
            id="pg_tenancy_django.E001"))
    order = settings.MIDDLEWARE
    auth = "django.contrib.auth.middleware.AuthenticationMiddleware"
    if auth in order and order.index(auth) > position:
        errors.append(checks.Error(
            "TenancyMiddleware must come after AuthenticationMiddleware",
            hint="The logged-in user is the actor; before authentication every request is anonymous.",
            id="pg_tenancy_django.E003"))
    return errors
