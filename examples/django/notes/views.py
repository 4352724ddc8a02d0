"""Views written as if there were one tenant: no tenant filter anywhere. The
middleware selected the request's tenant; PostgreSQL does the rest."""
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from pg_tenancy_django.decorators import require_role

from .models import Note, Project


@require_GET
def note_list(request):
    """Lists the tenant's notes."""
    notes = [{"id": n.id, "title": n.title, "tenant_id": str(n.tenant_id)} for n in Note.objects.order_by("id")]
    return JsonResponse({"tenant": str(request.tenant), "notes": notes})


@require_GET
def whoami(request):
    """Says which tenant the request is in and the actor's role there."""
    if request.tenant is None:
        return JsonResponse({"tenant": None})
    return JsonResponse({"tenant": request.tenant.slug, "tenant_id": str(request.tenant.id),
                         "role": request.tenant.role})


@require_POST
def note_create(request):
    """Creates a note (members and up: the database's insert policy decides)."""
    note = Note.objects.create(title=request.POST["title"], body=request.POST.get("body", ""))
    return JsonResponse({"id": note.id, "title": note.title, "tenant_id": str(note.tenant_id)}, status=201)


@require_GET
def note_detail(request, note_id):
    """Shows one note; another tenant's note does not exist here (404)."""
    note = get_object_or_404(Note, pk=note_id)
    return JsonResponse({"id": note.id, "title": note.title, "body": note.body})


@require_POST
@require_role("admin")
def note_delete(request, note_id):
    """Deletes a note (admins and owners only)."""
    get_object_or_404(Note, pk=note_id).delete()
    return JsonResponse({"deleted": note_id})


@require_POST
def project_create(request):
    """Creates a project; its tenant_id is the database's default."""
    project = Project.objects.create(name=request.POST["name"])
    return JsonResponse({"id": project.id, "name": project.name}, status=201)
