"""The incident register becomes a workflow: each incident belongs to one client, records when
and how the client company was told and the regulator's references, and keeps an append-only
history of entries. Incidents recorded before without a client must be given one first."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def refuse_incidents_without_client(apps, schema_editor):
    Incident = apps.get_model("audit", "Incident")
    orphans = list(Incident.objects.filter(client__isnull=True).values_list("pk", flat=True))
    if orphans:
        raise RuntimeError(
            "Incidents without a client cannot be kept in a client's register: set the client "
            f"of incidents {orphans} (for example in a Django shell), then migrate again."
        )


def final_report_is_no_longer_closed(apps, schema_editor):
    """'closed' used to mean 'final report made'; closing is now a step of its own."""
    Incident = apps.get_model("audit", "Incident")
    Incident.objects.filter(status="closed").update(status="final")


def closed_means_final_report_again(apps, schema_editor):
    Incident = apps.get_model("audit", "Incident")
    Incident.objects.filter(status__in=["final", "closed"]).update(status="closed")
    Incident.objects.filter(status="notified").update(status="open")


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_retention_schedule_source_and_review_marks"),
        ("org", "0004_client_live_since_and_employee_number"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="IncidentEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "step",
                    models.CharField(
                        choices=[
                            ("recorded", "Discovery recorded"),
                            ("notified", "Client company notified"),
                            ("preliminary", "Preliminary report to the regulator"),
                            ("final", "Final report to the regulator"),
                            ("closed", "Closed"),
                            ("corrected", "Correction"),
                            ("reminded", "Reminder sent"),
                            ("remind_failed", "Reminder not sent"),
                        ],
                        max_length=16,
                        verbose_name="step",
                    ),
                ),
                ("at", models.DateTimeField(verbose_name="recorded at")),
                (
                    "happened_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="took place at"),
                ),
                ("details", models.JSONField(blank=True, default=dict, verbose_name="details")),
                ("note", models.TextField(blank=True, verbose_name="note")),
            ],
            options={
                "verbose_name": "incident entry",
                "verbose_name_plural": "incident entries",
                "ordering": ["incident", "at", "id"],
            },
        ),
        migrations.AlterModelOptions(
            name="incident",
            options={
                "ordering": ["-discovered_at", "-id"],
                "verbose_name": "incident",
                "verbose_name_plural": "incidents",
            },
        ),
        migrations.AddField(
            model_name="incident",
            name="client_notified_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="client notified at"),
        ),
        migrations.AddField(
            model_name="incident",
            name="client_notified_how",
            field=models.CharField(
                blank=True,
                choices=[
                    ("phone", "By phone"),
                    ("email", "By e-mail"),
                    ("meeting", "In person"),
                    ("letter", "By letter"),
                    ("other", "Other"),
                ],
                max_length=8,
                verbose_name="how",
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="client_notified_whom",
            field=models.CharField(blank=True, max_length=200, verbose_name="who was notified"),
        ),
        migrations.AddField(
            model_name="incident",
            name="closed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="closed at"),
        ),
        migrations.AddField(
            model_name="incident",
            name="final_reference",
            field=models.CharField(
                blank=True, max_length=100, verbose_name="final report reference"
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="preliminary_reference",
            field=models.CharField(
                blank=True, max_length=100, verbose_name="preliminary report reference"
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="reminder_error",
            field=models.CharField(
                blank=True,
                choices=[
                    ("no_recipient", "Nobody serving this client has an e-mail address."),
                    ("send_failed", "The reminder e-mail could not be sent."),
                ],
                max_length=16,
                verbose_name="reminder error",
            ),
        ),
        migrations.AddField(
            model_name="incident",
            name="reminder_error_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="reminder error at"),
        ),
        migrations.AlterField(
            model_name="accessevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed"),
                    ("screen_pop", "Screen pop"),
                    ("search", "Search results"),
                    ("export", "Exported"),
                    ("reveal", "Revealed a masked value"),
                    ("named_staff", "Caller asked for a staff member by name"),
                    ("erase", "Retention erasure"),
                    ("incident", "Incident register entry"),
                ],
                max_length=16,
                verbose_name="action",
            ),
        ),
        migrations.RunPython(refuse_incidents_without_client, migrations.RunPython.noop),
        migrations.RunPython(final_report_is_no_longer_closed, closed_means_final_report_again),
        migrations.AlterField(
            model_name="incident",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.client",
                verbose_name="client",
            ),
        ),
        migrations.AlterField(
            model_name="incident",
            name="intentional",
            field=models.BooleanField(
                default=False,
                help_text="The final report is then due within 60 days instead of 30.",
                verbose_name="for an unlawful purpose",
            ),
        ),
        migrations.AlterField(
            model_name="incident",
            name="kind",
            field=models.CharField(
                choices=[
                    ("leak", "Leak"),
                    ("loss", "Loss"),
                    ("damage", "Damage"),
                    ("risk", "Possible leak"),
                ],
                max_length=8,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="incident",
            name="status",
            field=models.CharField(
                choices=[
                    ("open", "Discovered"),
                    ("notified", "Client notified"),
                    ("preliminary", "Preliminary report made"),
                    ("final", "Final report made"),
                    ("closed", "Closed"),
                ],
                default="open",
                max_length=12,
                verbose_name="status",
            ),
        ),
        migrations.AddIndex(
            model_name="incident",
            index=models.Index(fields=["client", "status"], name="incident_by_client_status"),
        ),
        migrations.AddField(
            model_name="incidententry",
            name="by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="by",
            ),
        ),
        migrations.AddField(
            model_name="incidententry",
            name="client",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="org.client",
                verbose_name="client",
            ),
        ),
        migrations.AddField(
            model_name="incidententry",
            name="incident",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="entries",
                to="audit.incident",
                verbose_name="incident",
            ),
        ),
    ]
