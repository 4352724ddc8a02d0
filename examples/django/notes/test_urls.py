"""URLs used only by the tests: views that write and then fail, and a
middleware that answers one of their errors itself."""
from django.db import connection
from django.http import HttpResponseBadRequest
from django.urls import include, path

from .models import Note


def write_then_fail(request):
    """Creates a note, then raises: the request must commit nothing."""
    Note.objects.create(title="half-done")
    raise RuntimeError("the view failed after writing")


def write_then_value_error(request):
    """Creates a note, then raises ValueError (answered by ValueErrorAs400Middleware)."""
    Note.objects.create(title="half-done")
    raise ValueError("bad input after writing")


class ValueErrorAs400Middleware:
    """Turns a view's ValueError into a 400, as API frameworks do with their errors."""

    def __init__(self, get_response):
        """Keeps the next handler."""
        self.get_response = get_response

    def __call__(self, request):
        """Passes the request on."""
        return self.get_response(request)

    def process_exception(self, request, exception):
        """Answers ValueError with 400."""
        if isinstance(exception, ValueError):
            return HttpResponseBadRequest(str(exception))
        return None


def missing_grant(request):
    """Reads a table the application's role has no grant on (a deployment mistake)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_catalog.pg_authid")
    return HttpResponseBadRequest("unreachable")


urlpatterns = [
    path("missing-grant/", missing_grant),
    path("fail/", write_then_fail),
    path("valueerror/", write_then_value_error),
    path("", include("example.urls")),
]
