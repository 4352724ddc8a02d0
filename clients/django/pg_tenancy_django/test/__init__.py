"""Running `manage.py test` with pg_tenancy: see TenancyTestRunner."""
from .runner import TenancyTestRunner

__all__ = ["TenancyTestRunner"]
