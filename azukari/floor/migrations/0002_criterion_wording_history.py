"""Each wording of a harassment criterion is kept; the criteria that exist start their
history with the wording they have now."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def first_wordings(apps, schema_editor):
    Criterion = apps.get_model("floor", "HarassmentCriterion")
    Version = apps.get_model("floor", "HarassmentCriterionVersion")
    now = django.utils.timezone.now()
    Version.objects.bulk_create(
        Version(
            client_id=c.client_id,
            criterion_id=c.pk,
            label=c.label,
            description=c.description,
            is_active=c.is_active,
            at=now,
        )
        for c in Criterion.objects.all()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("floor", "0001_notices_criteria_and_interventions"),
        ("org", "0004_client_live_since_and_employee_number"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HarassmentCriterionVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("label", models.CharField(max_length=200, verbose_name="criterion")),
                ("description", models.TextField(blank=True, verbose_name="what it covers")),
                ("is_active", models.BooleanField(verbose_name="active")),
                ("at", models.DateTimeField(verbose_name="changed at")),
                (
                    "by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "client",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="org.client",
                        verbose_name="client",
                    ),
                ),
                (
                    "criterion",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="floor.harassmentcriterion",
                        verbose_name="criterion",
                    ),
                ),
            ],
            options={
                "verbose_name": "criterion wording",
                "verbose_name_plural": "criterion wordings",
                "ordering": ["criterion", "-at", "-id"],
            },
        ),
        migrations.RunPython(first_wordings, migrations.RunPython.noop),
    ]
