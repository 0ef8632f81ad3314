from django.db import migrations, models


def mark_service_accounts(apps, schema_editor):
    """The accounts API tokens and self-service already act through are not people."""
    User = apps.get_model("org", "User")
    ApiToken = apps.get_model("api", "ApiToken")
    SelfServiceSettings = apps.get_model("selfservice", "SelfServiceSettings")
    ids = set(ApiToken.objects.values_list("service_user_id", flat=True))
    ids |= set(SelfServiceSettings.objects.values_list("service_user_id", flat=True))
    User.objects.filter(pk__in=ids).update(is_service_account=True)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0004_client_live_since_and_employee_number"),
        ("api", "0001_api_tokens_and_webhooks"),
        ("selfservice", "0001_self_service_links_settings_and_page_records"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="is_service_account",
            field=models.BooleanField(
                default=False,
                editable=False,
                help_text="Acts for an integration or for customers online; not a person.",
                verbose_name="service account",
            ),
        ),
        migrations.RunPython(mark_service_accounts, migrations.RunPython.noop),
    ]
