"""One audit trail for the hand-off's set-up: the SLA policy and business calendar changes move
into ``RoutingChange`` (subjects ``policy`` and ``calendar``), then their own tables go. A
change whose old values are all empty was the creation."""

from django.db import migrations, models


def _copy(apps, schema_editor):
    alias = schema_editor.connection.alias
    RoutingChange = apps.get_model("routing", "RoutingChange")
    sources = (
        ("policy", apps.get_model("routing", "SlaPolicyChange"), "policy"),
        ("calendar", apps.get_model("routing", "BusinessCalendarChange"), "calendar"),
    )
    for subject, model, owner in sources:
        rows = model.objects.using(alias).select_related(owner).order_by("id")
        RoutingChange.objects.using(alias).bulk_create(
            [
                RoutingChange(
                    subject=subject,
                    object_id=getattr(row, f"{owner}_id"),
                    label=getattr(row, owner).name[:200],
                    action=(
                        "created"
                        if all(old is None for old, _new in row.changes.values())
                        else "updated"
                    ),
                    actor_id=row.actor_id,
                    changed_at=row.changed_at,
                    changes=row.changes,
                )
                for row in rows.iterator(chunk_size=2000)
            ],
            batch_size=2000,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0006_routing_changes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="routingchange",
            name="subject",
            field=models.CharField(
                choices=[
                    ("policy", "SLA policy"),
                    ("calendar", "Business calendar"),
                    ("rule", "Routing rule"),
                    ("availability", "Rep availability"),
                    ("reason", "Rejection reason"),
                    ("checklist", "Checklist item"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddIndex(
            model_name="routingchange",
            index=models.Index(fields=["subject", "object_id"], name="routing_change_object"),
        ),
        migrations.RunPython(_copy, migrations.RunPython.noop),
        migrations.DeleteModel(name="BusinessCalendarChange"),
        migrations.DeleteModel(name="SlaPolicyChange"),
    ]
