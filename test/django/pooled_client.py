"""One client of the example project through PgBouncer (test/django/run.sh):
USER requests HOST ROUNDS times with Django's test client (the whole
middleware chain, real commits), listing the notes and adding one each time.
Every answer must show the user's own tenant's notes only; prints "ok N" or
the first wrong answer. Usage: pooled_client.py EXAMPLE_DIR USER HOST TITLE_PREFIX ROUNDS"""
import os
import sys

example, user, host, prefix, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
sys.path.insert(0, example)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402


def main():
    """Runs the rounds and reports."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=user))
    for number in range(rounds):
        created = client.post("/notes/", {"title": "%s %d" % (prefix, number)}, HTTP_HOST=host)
        if created.status_code != 201:
            return "round %d: POST answered %d: %s" % (number, created.status_code, created.content[:300])
        listed = client.get("/", HTTP_HOST=host)
        titles = [note["title"] for note in listed.json()["notes"]]
        strangers = [title for title in titles if not title.startswith(prefix)]
        if listed.status_code != 200 or strangers or len(titles) < number + 1:
            return "round %d: GET answered %d with %s" % (number, listed.status_code, titles)
    return "ok %d" % rounds


print(main())
