"""The example's tests, run by `make test` against a real PostgreSQL server with
pg_tenancy: isolation across hosts, rights by role, refusals as 4xx, the admin,
bulk_create, rollback of failed requests, and the management commands."""
import json
import time
from io import StringIO

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import TestCase, override_settings

from pg_tenancy_django.context import tenant_context
from pg_tenancy_django.management.base import shown

from .models import Note, Project

TEST_TEMPLATES = str(Path(__file__).resolve().parent / "test_templates")
ACME = "acme.example.com"
GLOBEX = "globex.example.com"


def denials(actor):
    """Returns the recorded denied attempts of an actor once the queue is written."""
    for _ in range(200):
        if sql("SELECT tenancy.access_log_pending()")[0][0] == 0:
            break
        time.sleep(0.05)
    return sql("SELECT coalesce(sum(attempts), 0) FROM tenancy.access_denials WHERE actor = %s", [actor])[0][0]


def sql(statement, params=None):
    """Runs one statement as the test role (a platform admin in test databases only)."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else None


class TenancyTestCase(TestCase):
    """Two tenants with their hosts and members, and a note in each."""

    @classmethod
    def setUpTestData(cls):
        """Creates tenants acme and globex, their members, users and notes."""
        sql("SELECT tenancy.create_tenant('acme', 'Acme', owner => 'alice')")
        sql("SELECT tenancy.create_tenant('globex', 'Globex', owner => 'gina')")
        sql("SELECT tenancy.add_domain('acme', %s), tenancy.add_domain('globex', %s)", [ACME, GLOBEX])
        sql("SELECT tenancy.add_member('acme', 'mallory', 'member'), tenancy.add_member('acme', 'vera', 'viewer'),"
            " tenancy.add_member('acme', 'adam', 'admin')")
        users = get_user_model().objects
        cls.alice = users.create_superuser("alice", "alice@acme.example.com", "x")
        cls.gina = users.create_user("gina", "gina@globex.example.com", "x", is_staff=True)
        cls.mallory = users.create_user("mallory", password="x")
        cls.vera = users.create_user("vera", password="x")
        cls.adam = users.create_user("adam", password="x")
        with tenant_context("acme", actor="alice"):
            cls.acme_note = Note.objects.create(title="acme plans")
        with tenant_context("globex", actor="gina"):
            cls.globex_note = Note.objects.create(title="globex secrets")

    def get(self, host, path, user=None, **extra):
        """GETs a path on a host as a user (anonymous when None)."""
        self.client.logout()
        if user is not None:
            self.client.force_login(user)
        return self.client.get(path, HTTP_HOST=host, **extra)

    def post(self, host, path, user, data=None, **extra):
        """POSTs to a path on a host as a user."""
        self.client.logout()
        self.client.force_login(user)
        return self.client.post(path, data or {}, HTTP_HOST=host, **extra)


class IsolationTests(TenancyTestCase):
    """Each host shows its own tenant's rows only, whatever the user tries."""

    def test_each_host_lists_its_own_notes(self):
        """acme's owner sees acme's note on acme's host, with the port the browser sent."""
        response = self.get(ACME + ":8000", "/", self.alice)
        self.assertEqual(response.status_code, 200)
        body = response.json()
        self.assertEqual(body["tenant"], "acme")
        self.assertEqual([n["title"] for n in body["notes"]], ["acme plans"])
        response = self.get(GLOBEX, "/", self.gina)
        self.assertEqual([n["title"] for n in response.json()["notes"]], ["globex secrets"])

    def test_another_tenants_row_is_not_found(self):
        """globex's note id on acme's host is a 404: the row does not exist there."""
        response = self.get(ACME, "/notes/%d/" % self.globex_note.id, self.alice)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.get(ACME, "/notes/%d/" % self.acme_note.id, self.alice).status_code, 200)

    def test_non_member_is_refused_with_403(self):
        """alice on globex's host is not a member: 403 with the database's reason, not a 500."""
        response = self.get(GLOBEX, "/", self.alice, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["sqlstate"], "42501")
        self.assertIn('permission denied for tenant "globex"', response.json()["error"])

    def test_anonymous_gets_no_tenant(self):
        """An anonymous visitor (actor "web:anonymous", a member of nothing) runs with
        no tenant: tenant data fails closed (400) without naming the tenant, and
        the login page still works on the tenant's host."""
        response = self.get(ACME, "/", HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "no tenant selected")
        self.assertNotIn(b"acme plans", response.content)
        self.assertEqual(self.get(ACME, "/admin/login/").status_code, 200)

    def test_anonymous_member_reads_public_tenant(self):
        """Adding "web:anonymous" as a viewer makes a tenant's pages public, read-only."""
        sql("SELECT tenancy.add_member('globex', 'web:anonymous', 'viewer')")
        self.assertEqual([n["title"] for n in self.get(GLOBEX, "/").json()["notes"]], ["globex secrets"])
        self.client.logout()
        self.assertEqual(self.client.post("/notes/", {"title": "x"}, HTTP_HOST=GLOBEX).status_code, 403)

    def test_anonymous_visits_are_not_recorded_as_denials(self):
        """A logged-out visit to a tenant's login page is no denied access; a
        logged-in non-member's visit is one (the denial log still works)."""
        before = (denials("web:anonymous"), denials("gina"))
        self.assertEqual(self.get(ACME, "/admin/login/").status_code, 200)
        self.assertEqual(self.get(ACME, "/admin/", self.gina).status_code, 403)
        self.assertEqual((denials("web:anonymous"), denials("gina")), (before[0], before[1] + 1))

    @override_settings(TENANCY_ANONYMOUS_ACTOR="vera")
    def test_user_with_the_anonymous_actor_is_refused(self):
        """A user whose actor is the anonymous visitors' one is refused, or every
        logged-out visitor would share its memberships."""
        self.assertEqual(self.get(ACME, "/", self.vera).status_code, 403)

    @override_settings(TENANCY_ACTOR="email")
    def test_empty_actor_is_refused(self):
        """A user whose actor comes out empty (no email here) is refused: the
        database must never judge the application's role in the user's place."""
        nobody = get_user_model().objects.create_user("nobody", email="")
        sql("SELECT tenancy.add_member('globex', 'gina@globex.example.com', 'owner')")
        response = self.get(GLOBEX, "/whoami/", nobody)
        self.assertEqual(response.status_code, 403)
        self.assertNotIn(b"globex secrets", self.get(GLOBEX, "/", nobody).content)

    @override_settings(TENANCY_ANONYMOUS_ACTOR="")
    def test_empty_anonymous_actor_is_refused(self):
        """An empty TENANCY_ANONYMOUS_ACTOR refuses anonymous requests instead of acting as the role."""
        self.assertEqual(self.get(GLOBEX, "/").status_code, 403)

    def test_non_member_is_refused_before_the_view(self):
        """gina (staff, not an acme member) cannot even open acme's admin index,
        which touches no protected table: the middleware validates first."""
        self.assertEqual(self.get(ACME, "/admin/", self.gina).status_code, 403)

    def test_actor_name_refused_by_the_database_is_403(self):
        """A username pg_tenancy refuses as an actor (Latin mixed with Cyrillic) gets 403, not 500."""
        lookalike = get_user_model().objects.create_user("\u0430lice", password="x")
        self.assertEqual(self.get(ACME, "/", lookalike).status_code, 403)

    def test_unknown_host_is_404(self):
        """A host assigned to no tenant is answered 404 before any view runs."""
        self.assertEqual(self.get("nowhere.example.com", "/", self.alice).status_code, 404)

    def test_tenant_header_is_not_trusted_in_host_mode(self):
        """A client cannot pick another tenant with a header when tenants come from the host."""
        response = self.get(ACME, "/", self.alice, HTTP_X_TENANT="globex")
        self.assertEqual(response.json()["tenant"], "acme")
        self.assertEqual([n["title"] for n in response.json()["notes"]], ["acme plans"])

    def test_written_rows_land_in_the_hosts_tenant(self):
        """A note created on globex's host belongs to globex and is invisible on acme's."""
        response = self.post(GLOBEX, "/notes/", self.gina, {"title": "new globex note"})
        self.assertEqual(response.status_code, 201)
        globex_id = sql("SELECT id::text FROM tenancy.tenants WHERE slug = 'globex'")[0][0]
        self.assertEqual(response.json()["tenant_id"], globex_id)
        titles = [n["title"] for n in self.get(ACME, "/", self.alice).json()["notes"]]
        self.assertNotIn("new globex note", titles)

    def test_context_does_not_outlive_the_request(self):
        """After a request, the test's own transaction has no tenant selected again."""
        self.get(ACME, "/", self.alice)
        with self.assertRaisesMessage(DatabaseError, "no tenant selected"):
            with transaction.atomic():
                list(Note.objects.all())

    def test_suspended_tenant_is_refused_with_its_reason(self):
        """A suspended tenant answers 403 and says why."""
        sql("SELECT tenancy.suspend_tenant('acme', reason => 'invoice overdue')")
        response = self.get(ACME, "/", self.alice, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"], 'tenant "acme" is suspended')
        self.assertIn("invoice overdue", response.json()["detail"])

    def test_archived_tenant_reads_but_refuses_writes(self):
        """An archived tenant is read-only: list works, create is 403."""
        sql("SELECT tenancy.archive_tenant('acme')")
        self.assertEqual(self.get(ACME, "/", self.alice).status_code, 200)
        response = self.post(ACME, "/notes/", self.alice, {"title": "too late"}, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"], 'tenant "acme" is archived')

    def test_terminating_tenant_reads_but_refuses_writes(self):
        """A terminating tenant is read-only until it is purged: list works, create is 403."""
        sql("SELECT tenancy.terminate_tenant('acme', '30 days', 'contract ended')")
        self.assertEqual(self.get(ACME, "/", self.alice).status_code, 200)
        response = self.post(ACME, "/notes/", self.alice, {"title": "too late"}, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json()["error"], 'tenant "acme" is terminating')
        self.assertIn("restore_tenant", response.json()["hint"])


class RightsTests(TenancyTestCase):
    """Roles decide, in the database: viewers read, members write, admins delete."""

    def test_viewer_reads_but_cannot_write(self):
        """vera (viewer) lists notes; her insert is refused by the policy with 403."""
        self.assertEqual(self.get(ACME, "/", self.vera).status_code, 200)
        response = self.post(ACME, "/notes/", self.vera, {"title": "by a viewer"})
        self.assertEqual(response.status_code, 403)
        with tenant_context("acme", actor="alice"):
            self.assertFalse(Note.objects.filter(title="by a viewer").exists())

    def test_member_cannot_delete(self):
        """@require_role('admin') refuses mallory (member) with 403 and keeps the note."""
        response = self.post(ACME, "/notes/%d/delete/" % self.acme_note.id, self.mallory)
        self.assertEqual(response.status_code, 403)
        with tenant_context("acme", actor="alice"):
            self.assertTrue(Note.objects.filter(pk=self.acme_note.id).exists())

    def test_admin_deletes(self):
        """adam (admin) deletes the note."""
        response = self.post(ACME, "/notes/%d/delete/" % self.acme_note.id, self.adam)
        self.assertEqual(response.status_code, 200)
        with tenant_context("acme", actor="alice"):
            self.assertFalse(Note.objects.filter(pk=self.acme_note.id).exists())

    def test_admin_cannot_delete_another_tenants_note(self):
        """adam's delete of globex's note id is a 404 and globex keeps it."""
        response = self.post(ACME, "/notes/%d/delete/" % self.globex_note.id, self.adam)
        self.assertEqual(response.status_code, 404)
        with tenant_context("globex", actor="gina"):
            self.assertTrue(Note.objects.filter(pk=self.globex_note.id).exists())

    def test_whoami_reports_the_role(self):
        """request.tenant gives the slug, the id and the actor's role."""
        body = self.get(ACME, "/whoami/", self.mallory).json()
        self.assertEqual((body["tenant"], body["role"]), ("acme", "member"))

    def test_revoked_member_is_refused_at_the_next_request(self):
        """Removing mallory from acme takes effect at her next request."""
        self.assertEqual(self.get(ACME, "/", self.mallory).status_code, 200)
        sql("SELECT tenancy.remove_member('acme', 'mallory')")
        self.assertEqual(self.get(ACME, "/", self.mallory).status_code, 403)


class AdminTests(TenancyTestCase):
    """The Django admin works per tenant; even a Django superuser stays in her tenant."""

    def test_admin_add_creates_the_note_in_the_hosts_tenant(self):
        """alice adds a note through the admin on acme's host: it is acme's."""
        response = self.post(ACME, "/admin/notes/note/add/", self.alice, {"title": "from the admin", "body": "x"})
        self.assertEqual(response.status_code, 302, response.content[:500])
        with tenant_context("acme", actor="alice"):
            note = Note.objects.get(title="from the admin")
        acme_id = sql("SELECT id FROM tenancy.tenants WHERE slug = 'acme'")[0][0]
        self.assertEqual(note.tenant_id, acme_id)

    def test_admin_changelist_shows_only_the_hosts_tenant(self):
        """acme's changelist lists acme's note and not globex's."""
        response = self.get(ACME, "/admin/notes/note/", self.alice)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "acme plans")
        self.assertNotContains(response, "globex secrets")

    def test_django_superuser_is_refused_on_another_tenants_host(self):
        """alice is a Django superuser but not a member of globex: its admin pages are 403."""
        self.assertEqual(self.get(GLOBEX, "/admin/notes/note/", self.alice).status_code, 403)
        self.assertEqual(self.get(GLOBEX, "/admin/notes/note/%d/change/" % self.globex_note.id,
                                  self.alice).status_code, 403)


class ModelTests(TenancyTestCase):
    """tenant_id is the database's business: off the model, or a TenantIdField."""

    def test_bulk_create_reads_back_the_tenant(self):
        """bulk_create sends DEFAULT and gets each row's tenant_id back."""
        with tenant_context("acme", actor="alice") as tenant:
            notes = Note.objects.bulk_create([Note(title="bulk 1"), Note(title="bulk 2")])
            self.assertEqual({n.tenant_id for n in notes}, {tenant.id})
            self.assertTrue(all(n.pk for n in notes))

    def test_model_without_tenant_field_gets_the_default(self):
        """A Project (no tenant_id on the model) is created through a view and stays in its tenant."""
        response = self.post(ACME, "/projects/", self.mallory, {"name": "rocket"})
        self.assertEqual(response.status_code, 201)
        with tenant_context("globex", actor="gina"):
            self.assertFalse(Project.objects.filter(name="rocket").exists())
        with tenant_context("acme", actor="alice"):
            self.assertTrue(Project.objects.filter(name="rocket").exists())

    def test_a_row_cannot_be_moved_to_another_tenant(self):
        """Setting tenant_id to another tenant's id is refused by the policy."""
        globex_id = sql("SELECT id FROM tenancy.tenants WHERE slug = 'globex'")[0][0]
        with self.assertRaises(DatabaseError):
            with tenant_context("acme", actor="alice"):
                note = Note.objects.get(pk=self.acme_note.pk)
                note.tenant_id = globex_id
                note.save()

    def test_hand_built_instance_updates_in_place(self):
        """Saving an instance built by hand with an existing pk (tenant_id unknown)
        updates the row and keeps it in the current tenant."""
        with tenant_context("acme", actor="alice") as tenant:
            Note(pk=self.acme_note.pk, title="renamed").save()
            note = Note.objects.get(pk=self.acme_note.pk)
            self.assertEqual((note.title, note.tenant_id), ("renamed", tenant.id))

    @override_settings(ROOT_URLCONF="notes.test_urls",
                       MIDDLEWARE=settings.MIDDLEWARE + ["notes.test_urls.ValueErrorAs400Middleware"])
    def test_error_answered_by_another_middleware_commits_nothing(self):
        """A middleware after TenancyMiddleware that turns the view's exception
        into a 400 does not make the view's half-done writes commit."""
        response = self.post(ACME, "/valueerror/", self.alice)
        self.assertEqual(response.status_code, 400)
        with tenant_context("acme", actor="alice"):
            self.assertFalse(Note.objects.filter(title="half-done").exists())

    @override_settings(TEMPLATES=[dict(settings.TEMPLATES[0], DIRS=[TEST_TEMPLATES])])
    def test_refusal_page_may_query_the_database(self):
        """The project's 403.html and 404.html may use the database (perms here)
        after a refusal in the view."""
        response = self.post(ACME, "/notes/", self.vera, {"title": "by a viewer"})
        self.assertEqual(response.status_code, 403)
        self.assertIn(b"refused for vera", response.content)
        response = self.get(ACME, "/notes/424242/", self.vera)
        self.assertEqual(response.status_code, 404)
        self.assertIn(b"not found for vera", response.content)

    @override_settings(DEBUG=True)
    def test_refusal_under_debug_is_still_a_refusal(self):
        """With DEBUG, Django's error page re-runs the refused query outside any
        savepoint; the anonymous visitor still gets 400, not a 500."""
        response = self.get(ACME, "/")
        self.assertEqual(response.status_code, 400)

    @override_settings(ROOT_URLCONF="notes.test_urls")
    def test_missing_grant_is_a_server_error(self):
        """PostgreSQL's own "permission denied for table" (a missing GRANT) is a
        deployment mistake: it stays a 500 instead of passing for a refusal."""
        self.client.raise_request_exception = False
        self.assertEqual(self.get(ACME, "/missing-grant/", self.alice).status_code, 500)

    @override_settings(ROOT_URLCONF="notes.test_urls")
    def test_failed_request_commits_nothing(self):
        """A view that writes and then raises leaves no row behind."""
        self.client.raise_request_exception = False
        response = self.post(ACME, "/fail/", self.alice)
        self.assertEqual(response.status_code, 500)
        with tenant_context("acme", actor="alice"):
            self.assertFalse(Note.objects.filter(title="half-done").exists())


class ResolverTests(TenancyTestCase):
    """The header and path strategies."""

    @override_settings(TENANCY_TENANT_RESOLVER="header")
    def test_header_strategy(self):
        """X-Tenant picks the tenant; the database checks membership before the
        view, the same way for a tenant that does not exist; a malformed name is 404."""
        self.assertEqual(self.get("localhost", "/", self.gina, HTTP_X_TENANT="globex").json()["tenant"], "globex")
        refused = self.get("localhost", "/whoami/", self.gina, HTTP_X_TENANT="acme", HTTP_ACCEPT="application/json")
        missing = self.get("localhost", "/whoami/", self.gina, HTTP_X_TENANT="nosuch", HTTP_ACCEPT="application/json")
        self.assertEqual((refused.status_code, missing.status_code), (403, 403))
        self.assertEqual(refused.json()["detail"].replace("acme", "X"), missing.json()["detail"].replace("nosuch", "X"))
        self.assertEqual(self.get("localhost", "/", self.gina).status_code, 404)
        for bad in ("GLOBEX", "globex,acme", "a" * 64, "globex\x00"):
            self.assertEqual(self.get("localhost", "/", self.gina, HTTP_X_TENANT=bad).status_code, 404, bad)

    @override_settings(TENANCY_TENANT_RESOLVER="path")
    def test_path_strategy(self):
        """/t/<slug>/... picks the tenant and the rest of the path is routed as usual."""
        response = self.get("localhost", "/t/acme/whoami/", self.mallory)
        self.assertEqual(response.json()["tenant"], "acme")
        self.assertEqual(self.get("localhost", "/t/globex/whoami/", self.mallory).status_code, 403)


    @override_settings(TENANCY_REQUIRED=False)
    def test_unresolved_tenant_runs_without_one_and_fails_closed(self):
        """With TENANCY_REQUIRED = False an unknown host runs the view with no
        tenant, and reading a protected table answers 400 (no tenant selected)."""
        response = self.get("nowhere.example.com", "/", self.alice, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"], "no tenant selected")

    @override_settings(TENANCY_EXEMPT_PATHS=[r"^/whoami/"])
    def test_exempt_path_has_no_tenant(self):
        """An exempt path runs without the middleware's transaction or tenant."""
        self.assertEqual(self.get(ACME, "/whoami/", self.alice).json(), {"tenant": None})


class CommandTests(TenancyTestCase):
    """manage.py commands call the extension's functions."""

    def run_command(self, *args):
        """Runs a management command and returns what it printed (also kept in self.out)."""
        self.out = StringIO()
        call_command(*args, stdout=self.out)
        return self.out.getvalue()

    def test_create_tenant_and_assign_user(self):
        """create_tenant with a domain, then assign_user_to_tenant and a role change."""
        out = self.run_command("create_tenant", "initech", "Initech", "--owner", "gina", "--domain",
                               "initech.example.com")
        self.assertIn("created tenant initech", out)
        self.assertIn("added mallory to tenant initech as viewer",
                      self.run_command("assign_user_to_tenant", "initech", "mallory", "--role", "viewer"))
        self.assertIn("mallory is now admin of tenant initech",
                      self.run_command("assign_user_to_tenant", "initech", "mallory", "--role", "admin"))
        self.assertEqual(self.get("initech.example.com", "/whoami/", self.mallory).json()["role"], "admin")

    def test_refusal_is_a_command_error(self):
        """A refused call ends the command with the server's message and changes nothing."""
        with self.assertRaisesMessage(CommandError, 'tenant "acme" already exists'):
            self.run_command("create_tenant", "acme", "Again", "--domain", "again.example.com")
        self.assertIsNone(sql("SELECT tenancy.resolve_domain('again.example.com')")[0][0])

    def test_empty_actor_option_is_refused(self):
        """--actor "" would run with the role's own rights: refused."""
        with self.assertRaisesMessage(CommandError, "--actor must name an actor"):
            self.run_command("list_tenants", "--actor", "")

    def test_control_characters_are_escaped(self):
        """Text the commands print (tenant names from before 0.6, table names
        chosen by owners) has its control characters escaped as psql does."""
        self.assertEqual(shown("Evil \x1b[2J\x07 \x9b ok\u00e9"), "Evil \\x1B[2J\\x07 \\x9B ok\u00e9")

    def test_tenant_admin_manages_members_through_actor(self):
        """--actor lets the application's role act for a tenant admin: adam (admin)
        promotes vera; mallory (member) is refused in add_member's own words."""
        self.assertIn("vera is now member of tenant acme",
                      self.run_command("assign_user_to_tenant", "acme", "vera", "--role", "member", "--actor", "adam"))
        with self.assertRaisesMessage(CommandError, 'permission denied to manage the members of tenant "acme"'):
            self.run_command("assign_user_to_tenant", "acme", "gina", "--actor", "mallory")

    def test_membership_for_a_name_nobody_has_is_refused(self):
        """assign_user_to_tenant refuses a name that is no Django user (whoever
        registered it first would get the role) unless --raw-actor says so."""
        with self.assertRaisesMessage(CommandError, 'no Django user is named "zed"'):
            self.run_command("assign_user_to_tenant", "acme", "zed", "--role", "admin")
        self.assertIn("added zed to tenant acme as viewer",
                      self.run_command("assign_user_to_tenant", "acme", "zed", "--role", "viewer", "--raw-actor"))

    def test_list_tenants(self):
        """list_tenants prints both tenants, as a table and as JSON."""
        self.assertRegex(self.run_command("list_tenants"), r"(?m)^acme +Acme +active")
        slugs = [t["slug"] for t in json.loads(self.run_command("list_tenants", "--json"))]
        self.assertEqual(slugs, ["acme", "globex"])

    def test_health_check(self):
        """tenant_health_check finds no error in the example's tables and names
        the warnings (Django's serial keys are unique across tenants). A test
        database has one error of its own: copied from the template, it lacks the
        template's session_preload_libraries (per-database settings are not copied)."""
        try:
            self.run_command("tenant_health_check", "--json")
        except CommandError:
            pass  # the error-level findings, checked below
        findings = json.loads(self.out.getvalue())
        errors = [f for f in findings if f["severity"] == "error"]
        self.assertEqual([f["object"] for f in errors if "notes_" in f["object"]], [])
        self.assertTrue(all("not preloaded" in f["problem"] for f in errors), errors)
        warnings = {f["object"] for f in findings if f["severity"] == "warning"}
        self.assertEqual(warnings, {"public.notes_note_pkey", "public.notes_project_pkey"})
