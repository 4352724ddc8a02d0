"""Settings of the pg_tenancy example: two tenants routed by host name, a
protected model, the admin. The database role is a pg_tenancy service role
(it names the logged-in user as tenancy.actor for each request)."""
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# The integration package lives in clients/django of this repository; a
# project of your own installs it with `pip install clients/django` instead.
sys.path.insert(0, str(BASE_DIR.parent.parent / "clients" / "django"))

SECRET_KEY = os.environ.get("EXAMPLE_SECRET_KEY", "example-only-not-secret")
DEBUG = os.environ.get("EXAMPLE_DEBUG") == "1"
ALLOWED_HOSTS = [".example.com", "localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pg_tenancy_django",
    "notes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the logged-in user is the tenancy.actor.
    "pg_tenancy_django.middleware.TenancyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "example.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
WSGI_APPLICATION = "example.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("EXAMPLE_DB_NAME", "example"),
        "USER": os.environ.get("EXAMPLE_DB_USER", "example_app"),
        "PASSWORD": os.environ.get("EXAMPLE_DB_PASSWORD", ""),
        "HOST": os.environ.get("PGHOST", ""),
        "PORT": os.environ.get("PGPORT", ""),
        # Each view in a savepoint of the middleware's transaction: its writes
        # roll back when it raises, whatever a middleware makes of the error.
        "ATOMIC_REQUESTS": True,
        # Behind PgBouncer in transaction pooling (EXAMPLE_PGBOUNCER=1), as
        # Django requires there.
        "DISABLE_SERVER_SIDE_CURSORS": os.environ.get("EXAMPLE_PGBOUNCER") == "1",
    },
}

# pg_tenancy: the tenant comes from the Host header (tenancy.resolve_domain),
# and `manage.py test` copies the template database prepared once with
# `manage.py tenancy_test_template | psql -U postgres`.
TENANCY_TENANT_RESOLVER = "host"
TEST_RUNNER = "pg_tenancy_django.test.TenancyTestRunner"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
LOGIN_URL = "/admin/login/"
