from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_case_list_indexes_by_state_and_reason"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contact",
            name="direction",
            field=models.CharField(
                choices=[
                    ("inbound", "Inbound"),
                    ("outbound", "Outbound"),
                    ("online", "Self-service (online)"),
                ],
                default="inbound",
                max_length=8,
                verbose_name="direction",
            ),
        ),
    ]
