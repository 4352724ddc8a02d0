"""pg_tenancy's refusals as HTTP answers: a permission refusal is 403, a
suspended, archived or terminating tenant 403 with the reason, no tenant selected 400, an
unknown or malformed tenant 404, an actor name the database refuses 403.
Other database errors, PostgreSQL's own "permission denied for table" (a
missing GRANT) among them, stay server errors."""
import re

from django.core.exceptions import BadRequest, PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, JsonResponse


class Refusal:
    """What the database refused: HTTP status, SQLSTATE and the server's words."""

    def __init__(self, status, sqlstate, message, detail=None, hint=None):
        """Keeps the parts of the refusal."""
        self.status = status
        self.sqlstate = sqlstate
        self.message = message
        self.detail = detail
        self.hint = hint

    def text(self):
        """Returns the message followed by its detail, as shown to people."""
        return self.message + (": " + self.detail if self.detail else "")

    def as_json(self):
        """Returns the refusal as a JSON-ready dict."""
        body = {"error": self.message, "sqlstate": self.sqlstate}
        if self.detail:
            body["detail"] = self.detail
        if self.hint:
            body["hint"] = self.hint
        return body


def _database_error(exception):
    """Returns the psycopg2 error behind a Django database error (or itself), or None."""
    seen = set()
    while exception is not None and id(exception) not in seen:
        seen.add(id(exception))
        if getattr(exception, "pgcode", None):
            return exception
        exception = exception.__cause__ or exception.__context__
    return None


# PostgreSQL's own privilege errors (a missing GRANT, DDL by a non-owner): a
# deployment mistake to see as a server error, not a refusal of the user.
MISSING_GRANT = re.compile(
    r"^(permission denied for (table|sequence|schema|function|procedure|routine|view|materialized view|"
    r"foreign table|column|database|language|type|domain|large object|tablespace|foreign-data wrapper|"
    r"foreign server|parameter|collation|conversion|operator|operator class|operator family|"
    r"text search configuration|text search dictionary|statistics object|event trigger|publication|"
    r"subscription|extension) |must be owner of )")


def _status_of(sqlstate, message):
    """Returns the HTTP status for a pg_tenancy refusal, or None for other errors."""
    if sqlstate == "42501":
        return None if MISSING_GRANT.match(message) else 403
    if sqlstate == "55000" and message == "no tenant selected":
        return 400
    if sqlstate == "55000" and message.startswith('tenant "') and message.endswith(("is suspended", "is archived", "is terminating")):
        return 403
    if sqlstate == "42704" and message.startswith('tenant "'):
        return 404
    if sqlstate == "22023" and message.startswith('invalid tenant "'):
        return 404
    if sqlstate == "22023" and message.startswith('invalid tenancy.actor "'):
        return 403
    return None


def refusal_of(exception):
    """Returns the Refusal an exception carries when it is one of pg_tenancy's, or None."""
    error = _database_error(exception)
    if error is None:
        return None
    diag = getattr(error, "diag", None)
    message = (getattr(diag, "message_primary", None) or str(error).splitlines()[0]).strip()
    status = _status_of(error.pgcode, message)
    if status is None:
        return None
    return Refusal(status, error.pgcode, message, getattr(diag, "message_detail", None),
                   getattr(diag, "message_hint", None))


def _wants_json(request):
    """Says whether the client asked for JSON rather than a page."""
    return "application/json" in request.headers.get("Accept", "") and "text/html" not in \
        request.headers.get("Accept", "")


def response_for(request, refusal):
    """Returns the HTTP answer for a refusal: JSON for JSON clients, otherwise
    the project's own 400/403/404 handlers (templates 400.html, 403.html, 404.html)."""
    if _wants_json(request):
        return JsonResponse(refusal.as_json(), status=refusal.status)
    exception = {400: BadRequest, 403: PermissionDenied, 404: Http404}[refusal.status](refusal.text())
    return response_for_exception(request, exception)
