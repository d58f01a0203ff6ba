"""Work delivered before its week held that week's capacity for good (review 56 M1); a delivery now gives it back.
This frees the weeks still ahead that earlier deliveries held."""

from __future__ import annotations

import datetime as dt

from django.db import migrations
from django.utils import timezone


def release(apps, schema_editor):
    Allocation = apps.get_model("factory", "Allocation")
    CapacitySlot = apps.get_model("factory", "CapacitySlot")
    today = timezone.localdate()
    this_week = today - dt.timedelta(days=today.weekday())
    for a in Allocation.objects.filter(status="delivered", week__gt=this_week).iterator():
        slot = CapacitySlot.objects.filter(capability_id=a.capability_id, week=a.week).first()
        if slot is not None:
            slot.reserved = max(0, slot.reserved - a.quantity)
            slot.save(update_fields=["reserved"])


class Migration(migrations.Migration):
    dependencies = [("factory", "0016_allocation_offered_quantity")]

    operations = [migrations.RunPython(release, migrations.RunPython.noop)]
