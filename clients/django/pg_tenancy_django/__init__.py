"""pg_tenancy for Django: the tenant of each request is chosen by a middleware
and enforced by PostgreSQL (row-level security installed by pg_tenancy), not by
ORM filters. See clients/django/README.md."""

__version__ = "0.6"

default_app_config = "pg_tenancy_django.apps.PgTenancyConfig"
