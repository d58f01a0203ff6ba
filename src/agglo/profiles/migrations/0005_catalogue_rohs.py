"""Adds RoHS compliance to the capability catalogue of databases made before it was shipped (orders may count a
factory's RoHS only where its profile holds the certificate: factory.certificates)."""

from django.db import migrations


def add(apps, schema_editor):
    term_model = apps.get_model("profiles", "CapabilityTerm")
    term_model.objects.update_or_create(
        code="rohs",
        defaults={
            "kind": "certification",
            "name_zh": "RoHS 有害物质限制符合性",
            "name_en": "RoHS compliance (restriction of hazardous substances)",
            "synonyms": "RoHS 2011/65/EU",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("profiles", "0004_text_key")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
