"""Settings of pg_tenancy_django, each with its default (override them in settings.py)."""
from django.conf import settings

DEFAULTS = {
    # How a request names its tenant: "host" (tenancy.resolve_domain() of the
    # Host header), "header" (TENANCY_HEADER), "path" (/TENANCY_PATH_PREFIX/<slug>/...)
    # or the dotted path of a function taking the request and returning a slug or None.
    "TENANCY_TENANT_RESOLVER": "host",
    # The HTTP header read by the "header" resolver.
    "TENANCY_HEADER": "X-Tenant",
    # The first path segment before the slug for the "path" resolver.
    "TENANCY_PATH_PREFIX": "t",
    # Whether a request whose tenant cannot be resolved is answered 404 (True)
    # or runs with no tenant selected (False: protected tables then refuse).
    "TENANCY_REQUIRED": True,
    # Regular expressions of paths served without a tenant (static files, signup).
    "TENANCY_EXEMPT_PATHS": [],
    # Whether the database role is a pg_tenancy service role that names the
    # application user (SET LOCAL tenancy.actor). False when each person logs in
    # to PostgreSQL as herself.
    "TENANCY_SET_ACTOR": True,
    # The actor of an authenticated user: an attribute name of the user, or the
    # dotted path of a function taking the user. Default: user.get_username().
    "TENANCY_ACTOR": None,
    # The actor named for anonymous requests. It is a member of no tenant unless
    # you add it (for example as a viewer, to make a tenant's pages public). The
    # ":" keeps it apart from every Django username, which cannot hold one.
    "TENANCY_ANONYMOUS_ACTOR": "web:anonymous",
    # The database alias whose connection the tenant is selected on.
    "TENANCY_DATABASE": "default",
    # The template database that `manage.py test` copies (see tenancy_test_template);
    # None: "<NAME of TENANCY_DATABASE>_tenancy_template", one per project.
    "TENANCY_TEST_TEMPLATE": None,
}


def setting(name):
    """Returns a pg_tenancy_django setting: settings.py's value, or the default."""
    value = getattr(settings, name, DEFAULTS[name])
    if name == "TENANCY_TEST_TEMPLATE" and value is None:
        database = settings.DATABASES[setting("TENANCY_DATABASE")]
        value = "%s_tenancy_template" % database.get("NAME")
    return value
