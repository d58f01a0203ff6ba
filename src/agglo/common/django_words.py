"""Django's own messages that the platform words otherwise in Chinese (as it addresses its users: 您, no stray
spaces). Named here so that `make messages`, which reads only the project's sources, keeps their translations in
the project's catalogue instead of marking them obsolete (review 56b)."""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

PASSWORD_WORDS = (
    gettext_noop("Your old password was entered incorrectly. Please enter it again."),
    ngettext_lazy(
        "Your password must contain at least %(min_length)d character.",
        "Your password must contain at least %(min_length)d characters.",
        "min_length",
    ),
    gettext_noop("The password is too similar to the %(verbose_name)s."),
    gettext_noop("Your password can’t be too similar to your other personal information."),
    gettext_noop("Your password can’t be a commonly used password."),
    gettext_noop("Your password can’t be entirely numeric."),
    # Django 5.2's own wording, whose zh_Hans catalogue still has the older "%(min_length)d" form
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
)
FORM_WORDS = (
    gettext_noop("Null characters are not allowed."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
)
# the task queue's model and fields as the admin lists them (django_tasks_db ships no Chinese)
TASK_WORDS = (
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    gettext_noop("status"),
    gettext_noop("enqueued at"),
    gettext_noop("started at"),
    gettext_noop("finished at"),
    gettext_noop("args kwargs"),
    gettext_noop("priority"),
    gettext_noop("task path"),
    gettext_noop("worker id"),
    gettext_noop("queue name"),
    gettext_noop("backend name"),
    gettext_noop("run after"),
    gettext_noop("return value"),
    gettext_noop("exception class path"),
    gettext_noop("traceback"),
)
