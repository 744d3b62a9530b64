"""Reminders: a task with remind_at enqueues a deferred background task; when it runs it creates one
notification and sends one e-mail (over real SMTP on loopback), and does nothing when the task is done,
archived, moved to another time, or already reminded."""

from __future__ import annotations

import datetime as dt
import socketserver
import threading

import pytest
from django.utils import timezone

from activities.models import Notification
from core.testing import assert_matches_spec

pytestmark = pytest.mark.django_db


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for Django's smtp backend: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        envelope = {"from": None, "to": [], "data": b""}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 localhost")
            elif verb == "MAIL":
                envelope["from"] = command.split(":", 1)[1].strip()
            elif verb == "RCPT":
                envelope["to"].append(command.split(":", 1)[1].strip())
            elif verb == "DATA":
                self.reply("354 end with .")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk
                envelope["data"] = data
                self.server.messages.append(dict(envelope))
                self.reply("250 queued")
                continue
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            elif verb == "RSET" or verb == "NOOP":
                pass
            else:
                self.reply("502 not implemented")
                continue
            if verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.reply("250 ok")


@pytest.fixture
def smtp_server(settings):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.server_address
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.shutdown()
    server.server_close()


def _task(org, **data):
    from activities.services import activity_create

    return activity_create(actor=org.owner, data={"kind": "task", "subject": "Call Grace", **data})


def test_saving_a_reminder_enqueues_a_deferred_task(org, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    remind = timezone.now() + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        task = _task(org, remind_at=remind)
    (result,) = DBTaskResult.objects.filter(task_path="activities.tasks.task_reminder")
    assert result.run_after == remind
    assert result.args_kwargs["args"] == [task.pk, task.remind_at.isoformat()]
    with django_capture_on_commit_callbacks(execute=True):
        _task(org)  # no reminder, nothing enqueued
    assert DBTaskResult.objects.filter(task_path="activities.tasks.task_reminder").count() == 1


def test_reminder_notifies_once_and_mails_over_smtp(org, api_as, smtp_server):
    from activities.tasks import task_reminder

    org.owner.email = "owner@example.com"
    org.owner.save(update_fields=["email"])
    remind = timezone.now() - dt.timedelta(minutes=1)
    task = _task(org, remind_at=remind, assignee_id=org.owner.pk)
    assert task_reminder.call(task.pk, task.remind_at.isoformat()) is True
    assert task_reminder.call(task.pk, task.remind_at.isoformat()) is False  # idempotent
    (notification,) = Notification.objects.all()
    assert notification.user_id == org.owner.pk and "Call Grace" in notification.text
    (message,) = smtp_server.messages
    assert message["to"] == ["<owner@example.com>"]
    assert b"Reminder: Call Grace" in message["data"]

    api = api_as(org.owner)
    listed = api.get("notifications")
    assert_matches_spec(listed, "get", "/api/v1/notifications")
    assert listed.json()["unread"] == 1 and listed.json()["items"][0]["id"] == notification.pk
    assert api_as(org.teammate).get("notifications").json()["items"] == []
    assert api_as(org.teammate).post("notifications/read", {"ids": [notification.pk]}).json() == {
        "changed": 0
    }
    read = api.post("notifications/read", {})
    assert_matches_spec(read, "post", "/api/v1/notifications/read")
    assert read.json() == {"changed": 1} and api.get("notifications").json()["unread"] == 0
    assert api.post("notifications/read", {"ids": "x"}).status_code == 400


def test_no_reminder_for_done_archived_or_moved_tasks(org, smtp_server):
    from activities.services import activity_archive, activity_update, task_complete
    from activities.tasks import task_reminder

    remind = timezone.now() - dt.timedelta(minutes=1)
    done = _task(org, remind_at=remind)
    task_complete(actor=org.owner, activity_id=done.pk)
    archived = _task(org, remind_at=remind)
    activity_archive(actor=org.owner, activity_id=archived.pk)
    moved = _task(org, remind_at=remind)
    old = moved.remind_at.isoformat()
    activity_update(
        actor=org.owner, activity_id=moved.pk, data={"version": 1, "remind_at": remind + dt.timedelta(days=1)}
    )
    for task in (done, archived, moved):
        assert task_reminder.call(task.pk, old if task is moved else task.remind_at.isoformat()) is False
    assert task_reminder.call(999999, remind.isoformat()) is False
    assert Notification.objects.count() == 0 and smtp_server.messages == []
