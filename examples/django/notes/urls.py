"""URLs of the notes app."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.note_list, name="note-list"),
    path("whoami/", views.whoami, name="whoami"),
    path("notes/", views.note_create, name="note-create"),
    path("notes/<int:note_id>/", views.note_detail, name="note-detail"),
    path("notes/<int:note_id>/delete/", views.note_delete, name="note-delete"),
    path("projects/", views.project_create, name="project-create"),
]
