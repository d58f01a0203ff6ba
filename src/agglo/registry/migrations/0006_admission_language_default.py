from django.db import migrations, models


def default_language(apps, schema_editor):
    # 0005 gave every earlier application "zh-hans"; they were not made in a recorded language, so they follow
    # the platform's default (AGGLO_LANGUAGE), as before 0005.
    apps.get_model("registry", "Admission").objects.filter(language="zh-hans").update(language="")


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_admission_language_text_key")]

    operations = [
        migrations.AlterField(
            model_name="admission",
            name="language",
            field=models.CharField(
                blank=True,
                choices=[("zh-hans", "Simplified Chinese"), ("en", "English")],
                default="",
                max_length=10,
                verbose_name="language",
            ),
        ),
        migrations.RunPython(default_language, migrations.RunPython.noop),
    ]
