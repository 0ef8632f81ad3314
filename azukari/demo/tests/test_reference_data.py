"""The demo's clients, sites and staff are set up through the same services as a real center:
its clients pass their set-up checklist and are live, its leaver went through the leaver
service, and building the demo twice changes nothing."""

from azukari.demo.story import reference_data
from azukari.org.checklist import checklist_missing, client_checklist
from azukari.org.models import Client, EmploymentStatus, Site, User


def test_the_demo_world_is_built_through_the_set_up_services(db):
    reference_data()
    for client in Client.objects.all():
        assert client.went_live_on is not None, client.code
        assert checklist_missing(client_checklist(client=client)) == [], client.code
        assert client.lines.get().number.startswith("+81120")
    assert Site.objects.get(code="fukuoka").hours.count() == 7
    leaver = User.objects.get(username="left_staff")
    assert leaver.employment_status == EmploymentStatus.LEFT and not leaver.has_access
    approver = User.objects.get(username="approver_coffee")
    assert approver.has_access and approver.client.code == "coffee"
    counts = (Client.objects.count(), User.objects.count(), Site.objects.count())
    reference_data()
    assert (Client.objects.count(), User.objects.count(), Site.objects.count()) == counts
