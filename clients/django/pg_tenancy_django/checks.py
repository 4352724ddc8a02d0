"""System checks (manage.py check): the settings TenancyMiddleware relies on."""
from django.conf import settings
from django.core import checks

from .conf import setting

MIDDLEWARE = "pg_tenancy_django.middleware.TenancyMiddleware"


@checks.register()
def check_settings(app_configs, **kwargs):
    """Reports settings that would weaken the middleware's guarantees."""
    if MIDDLEWARE not in settings.MIDDLEWARE:
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
    if auth in order and order.index(auth) > order.index(MIDDLEWARE):
        errors.append(checks.Error(
            "TenancyMiddleware must come after AuthenticationMiddleware",
            hint="The logged-in user is the actor; before authentication every request is anonymous.",
            id="pg_tenancy_django.E003"))
    return errors
