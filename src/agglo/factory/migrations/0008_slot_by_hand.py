from django.db import migrations, models
from django.db.models import F


def mark_set_by_hand(apps, schema_editor):
    """Slots whose capacity differs from the declared one were set by the factory (the best the data tells)."""
    slot = apps.get_model("factory", "CapacitySlot")
    slot.objects.exclude(capacity=F("capability__weekly_capacity")).update(by_hand=True)


class Migration(migrations.Migration):
    dependencies = [
        ("factory", "0007_member_role_label"),
    ]

    operations = [
        migrations.AddField(
            model_name="capacityslot",
            name="by_hand",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_set_by_hand, migrations.RunPython.noop),
    ]
