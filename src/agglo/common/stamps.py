"""Records whose `updated_at` marks every change, so that a client syncing by `updated_after` misses none: Django
stamps an `auto_now` field on a plain `save()`, but not on `save(update_fields=...)` without it, nor on a
queryset's `update()`."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


class StampedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    def update(self, **kwargs: Any) -> int:
        kwargs.setdefault("updated_at", timezone.now())
        return super().update(**kwargs)


class StampsChanges:
    """Mixed into a model with `updated_at = DateTimeField(auto_now=True)` and `objects = StampedQuerySet.as_manager()`:
    saving some fields stamps it too."""

    def save(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "updated_at"}
        super().save(*args, **kwargs)  # type: ignore[misc]
