"""Factories for tests and benchmarks: real rows, built the way the product builds them."""

import datetime as dt

import factory
from django.utils import timezone

from azukari.customers.models import Customer, CustomerPhone
from azukari.org.models import Client, Role, Site, SiteHours, Team, User
from azukari.subscriptions.models import Plan, Subscription


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"client{n}")
    name = factory.Sequence(lambda n: f"Client {n}")
    contract_signed_on = dt.date(2024, 4, 1)
    escalation_email = factory.LazyAttribute(lambda o: f"escalation@{o.code}.example")


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"site{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if not create:
            return
        opens, closes = extracted or (dt.time(9), dt.time(21))
        for weekday in range(7):
            SiteHours.objects.get_or_create(
                site=self, weekday=weekday, defaults={"opens_at": opens, "closes_at": closes}
            )


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    site = factory.SubFactory(SiteFactory)
    code = factory.LazyAttribute(lambda o: f"{o.site.code}-desk")
    name = "Azukari desk"
    is_azukari_desk = True

    @factory.post_generation
    def clients(self, create, extracted, **kwargs):
        if create and extracted:
            self.clients.add(*extracted)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Hanako"
    last_name = factory.Sequence(lambda n: f"Staff{n}")
    display_name = factory.LazyAttribute(lambda o: o.last_name)
    role = Role.OPERATOR
    home_site = factory.SubFactory(SiteFactory)
    agreement_signed_on = dt.date(2024, 4, 1)
    agreement_version = "2024-04"
    language = "ja"
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def clients(self, create, extracted, **kwargs):
        if create and extracted:
            self.clients.add(*extracted)
        if create:
            self.save()


class ApproverFactory(UserFactory):
    role = Role.CLIENT_APPROVER
    home_site = None
    agreement_signed_on = None
    client = factory.SubFactory(ClientFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    customer_number = factory.Sequence(lambda n: f"C{n:07d}")
    family_name = "山田"
    given_name = "太郎"
    family_name_kana = "ヤマダ"
    given_name_kana = "タロウ"
    postcode = "060-0001"
    address = "北海道札幌市中央区北一条西1-1"

    @factory.post_generation
    def phones(self, create, extracted, **kwargs):
        from azukari.customers.services import customer_search_text

        numbers = extracted or []
        for number in numbers:
            CustomerPhone.objects.create(client=self.client, customer=self, number=number)
        self.search_text = customer_search_text(self, numbers)
        if create:
            self.save(update_fields=["search_text"])


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        django_get_or_create = ("client", "code")

    client = factory.SubFactory(ClientFactory)
    code = "beans-monthly"
    name = "Beans every month"
    interval_days = 30
    price_yen = 3240
    min_deliveries = 3
    device_list_price_yen = 19800
    device_price_paid_yen = 4980


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    customer = factory.SubFactory(CustomerFactory)
    client = factory.LazyAttribute(lambda o: o.customer.client)
    plan = factory.LazyAttribute(lambda o: PlanFactory(client=o.customer.client))
    external_id = factory.Sequence(lambda n: f"S{n:07d}")
    started_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=70))
    terms_version = "2024-04"
    terms_snapshot = factory.LazyAttribute(
        lambda o: {
            "text": "Minimum 3 deliveries. Cancelling earlier costs the unrecovered device price.",
            "min_deliveries": o.plan.min_deliveries,
            "device_subsidy_yen": o.plan.device_subsidy_yen,
        }
    )
