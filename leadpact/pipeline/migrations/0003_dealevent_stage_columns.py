"""The stages of a creation or stage move as columns of the timeline entry (``stage`` entered,
``from_stage`` left), filled from the entries' JSON in bulk (two UPDATEs, on SQLite and
PostgreSQL alike), then the covering index the pipeline review reads them through."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import IntegerField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast


def _key(name):
    return Cast(KeyTextTransform(name, "data"), IntegerField())


def fill_stages(apps, schema_editor):
    DealEvent = apps.get_model("pipeline", "DealEvent")
    events = DealEvent.objects.using(schema_editor.connection.alias)
    events.filter(kind="created").update(stage_id=_key("stage"))
    events.filter(kind="stage").update(stage_id=_key("to_stage"), from_stage_id=_key("from_stage"))


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0002_quotas_forecast"),
    ]

    operations = [
        migrations.AddField(
            model_name="dealevent",
            name="from_stage",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The stage left by a stage move.",
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pipeline.stage",
            ),
        ),
        migrations.AddField(
            model_name="dealevent",
            name="stage",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The stage entered: created in, or moved to.",
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pipeline.stage",
            ),
        ),
        migrations.RunPython(fill_stages, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="dealevent",
            index=models.Index(
                condition=models.Q(("stage__isnull", False)),
                fields=["occurred_at"],
                include=("deal", "stage", "from_stage", "kind"),
                name="dealevent_entry",
            ),
        ),
    ]
