"""Pages that show personal data write audit events; masked values need an audited reveal."""

from django.urls import reverse

from azukari.audit.models import AccessAction, AccessEvent, NamedStaffRequest


def test_opening_a_case_records_who_saw_which_fields_from_where(client, cast, coffee_case):
    client.force_login(cast.operator)
    response = client.get(reverse("case-detail", args=[coffee_case.pk]), REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 200
    event = AccessEvent.objects.get(action=AccessAction.VIEW)
    assert event.actor == cast.operator
    assert event.client == cast.coffee
    assert event.customer_ref == coffee_case.customer_id
    assert event.ip == "192.0.2.10"
    assert event.purpose == f"case:{coffee_case.pk}"
    assert "phones_masked" in event.fields


def test_the_case_page_shows_phone_and_address_masked(client, cast, coffee_case):
    client.force_login(cast.operator)
    body = client.get(reverse("case-detail", args=[coffee_case.pk])).content.decode()
    assert "090-1234-5678" not in body
    assert "5678" in body
    assert "北海道＊＊＊" in body
    assert "中央区" not in body


def test_another_clients_case_is_a_404_and_writes_no_event(client, cast, tea_case):
    client.force_login(cast.operator)
    assert client.get(reverse("case-detail", args=[tea_case.pk])).status_code == 404
    assert client.get(reverse("case-detail", args=[999999])).status_code == 404
    assert not AccessEvent.objects.exists()


def test_the_case_list_records_the_names_shown(client, cast, coffee_case):
    client.force_login(cast.operator)
    assert client.get(reverse("case-list")).status_code == 200
    event = AccessEvent.objects.get(action=AccessAction.SEARCH)
    assert event.customer_ref == coffee_case.customer_id
    assert event.fields == ["name"]


def test_revealing_a_phone_shows_it_and_is_audited(client, cast, coffee_case):
    client.force_login(cast.operator)
    response = client.post(
        reverse("customer-reveal", args=[coffee_case.customer_id]),
        {"field": "phones", "purpose": f"case:{coffee_case.pk}"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "090-1234-5678" in response.content.decode()
    event = AccessEvent.objects.get(action=AccessAction.REVEAL)
    assert event.fields == ["phones"] and event.actor == cast.operator


def test_reveal_refuses_get_other_clients_and_unknown_fields(client, cast, tea_case, coffee_case):
    client.force_login(cast.operator)
    url = reverse("customer-reveal", args=[tea_case.customer_id])
    assert client.get(url).status_code == 405
    assert client.post(url, {"field": "phones", "purpose": "x"}).status_code == 404
    own = reverse("customer-reveal", args=[coffee_case.customer_id])
    assert client.post(own, {"field": "harassment_note", "purpose": "x"}).status_code == 400
    assert not AccessEvent.objects.filter(action=AccessAction.REVEAL).exists()


def test_one_click_records_a_named_staff_request_reported_per_client_and_site(
    client, cast, coffee_case
):
    client.force_login(cast.operator)
    response = client.post(reverse("case-named-staff", args=[coffee_case.pk]), {"note": ""})
    assert response.status_code == 302
    request = NamedStaffRequest.objects.get()
    assert (request.client, request.site, request.recorded_by) == (
        cast.coffee,
        cast.sapporo,
        cast.operator,
    )
    assert AccessEvent.objects.filter(action=AccessAction.NAMED_STAFF).count() == 1
    assert client.get(reverse("named-staff-report")).status_code == 403
    client.force_login(cast.desk)
    report = client.get(reverse("named-staff-report")).content.decode()
    assert cast.coffee.name in report and cast.sapporo.name in report
    # Nothing about other staff is shown by the case page or the report.
    assert cast.sv.last_name not in report


def test_named_staff_report_shows_only_the_viewers_clients(client, cast, coffee_case):
    client.force_login(cast.operator)
    client.post(reverse("case-named-staff", args=[coffee_case.pk]))
    client.force_login(cast.outsider)
    report = client.get(reverse("named-staff-report")).content.decode()
    assert cast.coffee.name not in report


def test_a_script_in_a_customer_name_is_shown_as_text(client, cast, coffee_case):
    customer = coffee_case.customer
    customer.family_name = "<script>alert(1)</script>"
    customer.save(update_fields=["family_name"])
    client.force_login(cast.operator)
    body = client.get(reverse("case-detail", args=[coffee_case.pk])).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
