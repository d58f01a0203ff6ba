"""Load the process catalogue shipped with the app (data/processes.json)."""

import json
from pathlib import Path

from django.db import migrations

FILE = Path(__file__).resolve().parents[1] / "data" / "processes.json"


def load(apps, schema_editor):
    Process = apps.get_model("factory", "Process")
    known = {f.name for f in Process._meta.fields}  # the file may hold fields later migrations add
    for row in json.loads(FILE.read_text(encoding="utf-8")):
        defaults = {k: v for k, v in row.items() if k != "code" and k in known}
        Process.objects.update_or_create(code=row["code"], defaults=defaults)


class Migration(migrations.Migration):
    dependencies = [("factory", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
