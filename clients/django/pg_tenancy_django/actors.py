"""The actor a Django user acts as in pg_tenancy (TENANCY_ACTOR)."""
from django.core.exceptions import PermissionDenied
from django.utils.module_loading import import_string

from .conf import setting


def actor_of_user(user):
    """Returns the actor of a user: TENANCY_ACTOR (an attribute name or a
    function's dotted path) applied to it, or user.get_username(). An empty
    actor is refused: with no actor the database would judge the service role
    itself, whose rights are not the user's."""
    how = setting("TENANCY_ACTOR")
    if how is None:
        actor = user.get_username()
    elif callable(how):
        actor = how(user)
    elif "." in how:
        actor = import_string(how)(user)
    else:
        actor = getattr(user, how, None)
    if actor is None or not str(actor).strip():
        raise PermissionDenied("user %r has no pg_tenancy actor name (TENANCY_ACTOR gave %r)"
                               % (user.pk, actor))
    if str(actor) == str(setting("TENANCY_ANONYMOUS_ACTOR")):
        # Else the user's memberships would be every logged-out visitor's.
        raise PermissionDenied("user %r has the actor name of anonymous visitors (%r)" % (user.pk, actor))
    return str(actor)


def actor_for(request):
    """Returns the actor to assert for a request: its authenticated user's, or
    TENANCY_ANONYMOUS_ACTOR, which must not be empty either."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return actor_of_user(user)
    anonymous = setting("TENANCY_ANONYMOUS_ACTOR")
    if anonymous is None or not str(anonymous).strip():
        raise PermissionDenied("TENANCY_ANONYMOUS_ACTOR must name an actor")
    return str(anonymous)


def is_anonymous(request):
    """Says whether the request has no authenticated user."""
    user = getattr(request, "user", None)
    return user is None or not user.is_authenticated
