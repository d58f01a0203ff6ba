from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def entered_as_now(apps, schema_editor):
    """Steps placed before: scaled from what they are now, at the order's quantity now."""
    Operation = apps.get_model("factory", "Operation")
    Order = apps.get_model("factory", "Order")
    Operation.objects.update(
        entered_quantity=F("quantity"),
        entered_for=Subquery(Order.objects.filter(pk=OuterRef("order_id")).values("quantity")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("factory", "0019_order_updated_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="operation",
            name="entered_quantity",
            field=models.PositiveIntegerField(default=0, editable=False),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="operation",
            name="entered_for",
            field=models.PositiveIntegerField(default=0, editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(entered_as_now, migrations.RunPython.noop),
    ]
