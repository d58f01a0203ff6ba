from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django_tasks_db.apps import TasksAppConfig


class CommonConfig(AppConfig):
    name = "agglo.common"
    label = "common"
    verbose_name = _("Common")

    def ready(self) -> None:
        from django.core.validators import MaxLengthValidator

        # Every form's "too long" reads as the services' does ("At most 200 characters (has 201)."), not as
        # Django's ("确保该变量包含不超过 200 字符 (目前字符数 201)。").
        MaxLengthValidator.message = ngettext_lazy(
            "At most %(limit_value)d character (has %(show_value)d).",
            "At most %(limit_value)d characters (has %(show_value)d).",
            "limit_value",
        )


class TaskQueueConfig(TasksAppConfig):
    """The task queue's tables, named in the operator's language in the admin (the package names itself in English
    only; its model and field names are translated in our catalogue, common/django_words.py)."""

    verbose_name = _("Background tasks")
