"""Loads the shipped capability catalogue, so every database has it from its first migration."""

import json
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "capabilities.json"


def load(apps, schema_editor):
    term_model = apps.get_model("profiles", "CapabilityTerm")
    for entry in json.loads(CATALOGUE.read_text(encoding="utf-8")):
        term_model.objects.update_or_create(
            code=entry["code"],
            defaults={k: entry.get(k, "") for k in ("kind", "name_zh", "name_en", "synonyms")},
        )


class Migration(migrations.Migration):
    dependencies = [("profiles", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
