"""The access log named each viewer by their login, which other members must not read (an admitted admin's is its
contact e-mail address): kept entries now name them by number, as new ones do (`services.viewer_label`)."""

from django.db import migrations
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat


def forward(apps, schema_editor):
    entries = apps.get_model("access", "AccessLogEntry").objects
    entries.filter(viewer__isnull=False).update(viewer_label=Concat(Value("#"), Cast("viewer_id", CharField())))
    entries.filter(viewer__isnull=True).exclude(viewer_label="anonymous").update(viewer_label="")  # deleted since


class Migration(migrations.Migration):
    dependencies = [("access", "0006_profile_view_per_day")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
