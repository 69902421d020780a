"""The set-up stamp and the triggers that change it (see ``RoutingSetupStamp``).

SQLite has only row-level triggers (three per table); PostgreSQL one statement-level trigger
per table. Salespeople count only for the columns routing reads, so a login (``last_login``)
does not make every worker reload. A test (``test_setup_cache``) changes each table and
checks that the token moves, so a trigger lost to a later migration is noticed.
"""

from django.db import migrations, models

STAMP = "routing_routingsetupstamp"
# table → the columns whose update matters (None: any column)
WATCHED = {
    "routing_routingrule": None,
    "routing_repavailability": None,
    "routing_slapolicy": None,
    "routing_businesscalendar": None,
    "accounts_team": ("name", "kind"),
    "accounts_user": ("is_active", "role", "team_id", "first_name", "last_name", "username"),
}


def _install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    run(f"INSERT INTO {STAMP} (token) VALUES ('initial')")
    if vendor == "postgresql":
        run(
            "CREATE OR REPLACE FUNCTION routing_setup_touch() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN UPDATE {STAMP} SET token = md5(random()::text || clock_timestamp()::text); "
            "RETURN NULL; END $$"
        )
        for table, columns in WATCHED.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            run(
                f"CREATE TRIGGER {table}_setup_stamp AFTER INSERT OR DELETE OR TRUNCATE OR "
                f"{update} ON {table} FOR EACH STATEMENT EXECUTE FUNCTION routing_setup_touch()"
            )
    elif vendor == "sqlite":
        body = f"BEGIN UPDATE {STAMP} SET token = lower(hex(randomblob(16))); END"
        for table, columns in WATCHED.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            for suffix, event in (("ins", "INSERT"), ("del", "DELETE"), ("upd", update)):
                run(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_setup_{suffix} AFTER {event} "
                    f"ON {table} FOR EACH ROW {body}"
                )


def _remove(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "postgresql":
        for table in WATCHED:
            run(f"DROP TRIGGER IF EXISTS {table}_setup_stamp ON {table}")
        run("DROP FUNCTION IF EXISTS routing_setup_touch()")
    elif vendor == "sqlite":
        for table in WATCHED:
            for suffix in ("ins", "del", "upd"):
                run(f"DROP TRIGGER IF EXISTS {table}_setup_{suffix}")


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0004_calendar_changes"),
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RoutingSetupStamp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
            ],
        ),
        migrations.RunPython(_install, _remove),
    ]
