from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from azukari.core.errors import DomainError
from azukari.org.calendars import (
    site_hours_clear,
    site_hours_set,
    validate_closed_day,
    validate_site_hours,
)
from azukari.org.enrolment import two_factor_enrolment_issue
from azukari.org.failover import (
    rebalance_apply,
    rebalance_dismiss,
    site_down,
    site_mark_down,
    site_up,
)
from azukari.org.models import (
    AssignmentMove,
    Client,
    ClientClosedDay,
    ClientLine,
    RebalanceProposal,
    Site,
    SiteHours,
    SiteOutage,
    TaskReceipt,
    Team,
    User,
)
from azukari.org.permissions import Cap, user_can
from azukari.org.setup import (
    CLIENT_FIELDS,
    client_create,
    client_lines_kept_check,
    client_update,
    client_values_check,
    site_create,
    staff_values_check,
    team_create,
)
from azukari.org.staff import staff_mark_left


def _as_validation_error(exc: DomainError) -> ValidationError:
    return ValidationError({exc.field: exc.message} if exc.field else exc.message)


class ClientClosedDayForm(forms.ModelForm):
    """The admin edits closed days under the same rules as the calendar services."""

    class Meta:
        model = ClientClosedDay
        fields = ["date", "note"]

    def clean(self):
        data = super().clean()
        date = data.get("date")
        changed = self.instance.pk is None or "date" in self.changed_data
        if date and changed and self.instance.client_id:
            try:
                validate_closed_day(
                    client=self.instance.client, date=date, today=timezone.localdate()
                )
            except DomainError as exc:
                raise _as_validation_error(exc) from exc
        return data


class ClientClosedDayFormSet(forms.BaseInlineFormSet):
    """The rule of `client_closed_day_remove`: a past closed day stays (neither removed nor
    moved), clocks ran on it."""

    def clean(self):
        super().clean()
        today = timezone.localdate()
        for form in self.initial_forms:
            gone = (form.cleaned_data or {}).get("DELETE") or "date" in form.changed_data
            if gone and form.initial.get("date") and form.initial["date"] < today:
                raise ValidationError(
                    _("A closed day in the past stays: clocks already ran on it.")
                )


class ClientClosedDayInline(admin.TabularInline):
    model = ClientClosedDay
    form = ClientClosedDayForm
    formset = ClientClosedDayFormSet
    extra = 0


class ClientLineForm(forms.ModelForm):
    """A dialled number is stored as the screen pop reads it (E.164), whatever was typed."""

    class Meta:
        model = ClientLine
        fields = ["number", "label"]

    def clean_number(self):
        from azukari.core.phones import normalize_phone

        try:
            number = normalize_phone(self.cleaned_data["number"], field="number")
        except DomainError as exc:
            raise ValidationError(exc.message) from exc
        if not number:
            raise ValidationError(_("Enter the number customers dial."))
        taken = ClientLine.objects.filter(number=number).exclude(pk=self.instance.pk)
        if taken.exists():
            raise ValidationError(_("This number is already a client's line."))
        return number


class ClientLineFormSet(forms.BaseInlineFormSet):
    """The rule of `client_line_remove`, for the whole edit: a live client keeps a line."""

    def clean(self):
        super().clean()
        rows = [form.cleaned_data for form in self.forms if form.cleaned_data]
        if self.instance.pk is None or not any(row.get("DELETE") for row in rows):
            return
        kept = [row for row in rows if not row.get("DELETE")]
        try:
            client_lines_kept_check(client=self.instance, kept=len(kept))
        except DomainError as exc:
            raise ValidationError(exc.message) from exc


class ClientLineInline(admin.TabularInline):
    model = ClientLine
    form = ClientLineForm
    formset = ClientLineFormSet
    extra = 0


class ClientAdminForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["code", *CLIENT_FIELDS]

    def clean(self):
        data = super().clean()
        try:
            client_values_check({f: data[f] for f in CLIENT_FIELDS if f in data})
        except DomainError as exc:
            raise _as_validation_error(exc) from exc
        return data


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    """Clients are created and changed through the set-up services; going live happens on
    the set-up checklist page, once nothing required is missing."""

    form = ClientAdminForm
    list_display = ["code", "name", "contract_signed_on", "went_live_on", "is_active"]
    search_fields = ["code", "name", "name_kana"]
    readonly_fields = ["went_live_on"]
    inlines = [ClientLineInline, ClientClosedDayInline]

    def get_queryset(self, request):
        # Superusers set clients up; everyone else edits only the clients they serve.
        clients = super().get_queryset(request)
        return clients if request.user.is_superuser else clients.visible_to(request.user)

    def has_add_permission(self, request):
        return user_can(request.user, Cap.CLIENTS_SET_UP) and super().has_add_permission(request)

    def save_model(self, request, obj, form, change):
        values = {f: form.cleaned_data[f] for f in CLIENT_FIELDS if f in form.cleaned_data}
        if change:
            changed = {f: v for f, v in values.items() if f in form.changed_data}
            client_update(actor=request.user, client=obj, **changed)
            return
        client = client_create(actor=request.user, code=form.cleaned_data["code"], **values)
        obj.pk = obj.id = client.pk
        obj._state.adding = False

    def response_add(self, request, obj, post_url_continue=None):
        """A new client goes on to its set-up checklist."""
        from django.shortcuts import redirect
        from django.urls import reverse

        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        super().response_add(request, obj, post_url_continue)
        return redirect(reverse("setup-checklist", args=[obj.code]))


class SiteHoursForm(forms.ModelForm):
    class Meta:
        model = SiteHours
        fields = ["weekday", "opens_at", "closes_at"]

    def clean(self):
        data = super().clean()
        if {"weekday", "opens_at", "closes_at"} <= data.keys():
            try:
                validate_site_hours(
                    weekday=data["weekday"], opens_at=data["opens_at"], closes_at=data["closes_at"]
                )
            except DomainError as exc:
                raise _as_validation_error(exc) from exc
        return data


class SiteHoursFormSet(forms.BaseInlineFormSet):
    """The rule of `site_hours_clear`, for the whole edit: a site that works keeps at least
    one weekday (a site never given hours works the documented default)."""

    def clean(self):
        super().clean()
        kept = [
            form for form in self.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        if self.initial_forms and not kept:
            raise ValidationError(_("A site works on at least one weekday."))


class SiteHoursInline(admin.TabularInline):
    model = SiteHours
    form = SiteHoursForm
    formset = SiteHoursFormSet
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    """A site's status changes only through the actions, which move or propose work."""

    list_display = ["code", "name", "status", "status_changed_at"]
    readonly_fields = ["status", "status_changed_at"]
    inlines = [SiteHoursInline]
    actions = ["mark_down_drill", "mark_down", "mark_operating"]

    def save_model(self, request, obj, form, change):
        """A new site through `site_create` (its hours follow in the inline)."""
        if change:
            return super().save_model(request, obj, form, change)
        site = site_create(
            actor=request.user, code=form.cleaned_data["code"], name=form.cleaned_data["name"]
        )
        obj.pk = obj.id = site.pk
        obj._state.adding = False

    def save_formset(self, request, form, formset, change):
        """Site hours are written by the calendar services: new and changed days first, so
        that the at-least-one-weekday rule holds after every step, then the removed ones."""
        if formset.model is not SiteHours:
            return super().save_formset(request, form, formset, change)
        site = form.instance
        removed: list[int] = []
        # What the admin's history entry lists (Django's own formset save sets these).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row in formset.forms:
            data = row.cleaned_data
            if not data:
                continue
            before = row.instance.weekday if row.instance.pk else None
            if data.get("DELETE"):
                if before is not None:
                    removed.append(before)
                continue
            if row.instance.pk and not row.has_changed():
                continue
            hours = site_hours_set(
                site=site,
                actor=request.user,
                weekday=data["weekday"],
                opens_at=data["opens_at"],
                closes_at=data["closes_at"],
            )
            if row.instance.pk:
                formset.changed_objects.append((hours, row.changed_data))
            else:
                formset.new_objects.append(hours)
            if before is not None and before != data["weekday"]:
                removed.append(before)
        for weekday in removed:
            gone = SiteHours.objects.filter(site=site, weekday=weekday).first()
            site_hours_clear(site=site, actor=request.user, weekday=weekday)
            if gone is not None:
                formset.deleted_objects.append(gone)

    @admin.action(description=_("Drill: show what marking down would move"))
    def mark_down_drill(self, request, queryset):
        for site in queryset:
            try:
                report = site_down(site=site, actor=request.user, drill=True)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            targets = ", ".join(f"{team}: {n}" for team, n in sorted(report.to_teams.items()))
            self.message_user(
                request,
                gettext(
                    "%(site)s (drill): %(cases)d azukari and %(callbacks)d callbacks would move"
                    " (%(targets)s); %(stranded)d would find no operating team."
                )
                % {
                    "site": site.name,
                    "cases": report.cases_moved,
                    "callbacks": report.callbacks_moved,
                    "targets": targets or "-",
                    "stranded": sum(report.stranded.values()),
                },
            )

    @admin.action(description=_("Mark down and move its open work"))
    def mark_down(self, request, queryset):
        for site in queryset:
            try:
                site_mark_down(site=site, actor=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return
            self.message_user(
                request,
                gettext("%(site)s is down; its open work is being moved.") % {"site": site.name},
                messages.WARNING,
            )

    @admin.action(description=_("Mark operating (propose a rebalance)"))
    def mark_operating(self, request, queryset):
        for site in queryset:
            try:
                proposal = site_up(site=site, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{site.name}: {exc}", messages.ERROR)
                continue
            self.message_user(
                request,
                gettext("%(site)s is operating; %(n)d azukari proposed to move back.")
                % {"site": site.name, "n": len(proposal.items) if proposal else 0},
            )


class ReadOnlyModelAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SiteOutage)
class SiteOutageAdmin(ReadOnlyModelAdmin):
    list_display = ["site", "started_at", "ended_at", "started_by"]
    list_filter = ["site"]


@admin.register(AssignmentMove)
class AssignmentMoveAdmin(ReadOnlyModelAdmin):
    list_display = ["moved_at", "kind", "case", "client", "from_team", "to_team", "to_assignee"]
    list_filter = ["kind", "client", "outage"]
    list_select_related = ["case", "client", "from_team__site", "to_team__site", "to_assignee"]

    def get_queryset(self, request):
        # Moves name cases: only those of clients the viewer serves.
        return super().get_queryset(request).visible_to(request.user)


@admin.register(RebalanceProposal)
class RebalanceProposalAdmin(ReadOnlyModelAdmin):
    list_display = ["site", "created_at", "status", "size", "decided_by"]
    list_filter = ["status", "site"]
    actions = ["apply", "dismiss"]

    @admin.display(description=_("azukari"))
    def size(self, obj) -> int:
        return len(obj.items)

    @admin.action(description=_("Apply: move the proposed work back"))
    def apply(self, request, queryset):
        for proposal in queryset:
            try:
                moved = rebalance_apply(proposal=proposal, actor=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.message_user(request, gettext("%(n)d azukari moved back.") % {"n": moved})

    @admin.action(description=_("Dismiss: leave the work where it is"))
    def dismiss(self, request, queryset):
        for proposal in queryset:
            try:
                rebalance_dismiss(proposal=proposal, actor=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.ERROR)


@admin.register(TaskReceipt)
class TaskReceiptAdmin(ReadOnlyModelAdmin):
    list_display = ["key", "done_at", "duplicate_runs"]
    search_fields = ["key"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "site", "is_azukari_desk"]
    list_filter = ["site", "is_azukari_desk"]
    filter_horizontal = ["clients"]

    def save_model(self, request, obj, form, change):
        """A new team through `team_create`; its clients are set by the form afterwards."""
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        team = team_create(
            actor=request.user,
            site=data["site"],
            code=data["code"],
            name=data["name"],
            is_azukari_desk=data.get("is_azukari_desk", False),
            clients=list(data.get("clients") or []),
        )
        obj.pk = obj.id = team.pk
        obj._state.adding = False

    def get_queryset(self, request):
        """A team serving a client the person does not serve is not theirs to see or edit."""
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        others = Client.objects.exclude(pk__in=request.user.visible_client_ids())
        return qs.exclude(clients__in=others)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "clients" and not request.user.is_superuser:
            kwargs["queryset"] = Client.objects.filter(pk__in=request.user.visible_client_ids())
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class StaffChangeForm(UserChangeForm):
    """A person's record changed in the admin obeys the rules of `staff_update`: a role with
    its site or company, a team at their site, an agreement with its version."""

    FIELDS = {
        "role": "role",
        "last_name": "family_name",
        "first_name": "given_name",
        "display_name": "display_name",
        "email": "email",
        "home_site": "home_site",
        "team": "team",
        "clients": "clients",
        "client": "company",
        "agent_id": "agent_id",
        "agreement_signed_on": "agreement_signed_on",
        "agreement_version": "agreement_version",
    }

    def clean(self):
        data = super().clean()
        person = self.instance
        if person.pk is None or person.is_superuser or data.get("is_superuser"):
            return data  # the deployment's own superusers are not staff records
        changes = {
            self.FIELDS[name]: data[name]
            for name in self.changed_data
            if name in self.FIELDS and name in data
        }
        if changes:
            if "clients" in changes:
                changes["clients"] = list(changes["clients"])
            try:
                staff_values_check(changes, person)
            except DomainError as exc:
                field = {v: k for k, v in self.FIELDS.items()}.get(exc.field or "")
                if field in self.fields:
                    raise ValidationError({field: exc.message}) from exc
                raise ValidationError(exc.message) from exc
        return data


class AccountsFilter(admin.SimpleListFilter):
    """The staff list shows people; the accounts integrations and self-service act through
    are one click away, never mixed in."""

    title = _("accounts")
    parameter_name = "accounts"

    def lookups(self, request, model_admin):
        return [("service", _("Service accounts (integrations, self-service)"))]

    def choices(self, changelist):
        choices = list(super().choices(changelist))
        choices[0]["display"] = _("People")  # "All" would say service accounts are in it
        return choices

    def queryset(self, request, queryset):
        if self.value() == "service":
            return queryset.filter(is_service_account=True)
        return queryset.people()


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = StaffChangeForm
    list_display = [
        "username",
        "display_name",
        "role",
        "home_site",
        "employment_status",
        "agreement_signed_on",
    ]
    list_filter = [AccountsFilter, "role", "home_site", "employment_status"]
    search_fields = ["username", "first_name", "last_name", "display_name", "agent_id"]
    filter_horizontal = ["clients", "groups", "user_permissions"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (
            _("Work"),
            {
                "fields": [
                    "role",
                    "display_name",
                    "language",
                    "home_site",
                    "team",
                    "clients",
                    "client",
                    "agent_id",
                ]
            },
        ),
        (
            _("Confidentiality and employment"),
            {
                "fields": [
                    "agreement_signed_on",
                    "agreement_version",
                    "employment_status",
                    "left_on",
                ]
            },
        ),
    ]

    # User administration is for administrators, over the people of the clients they serve;
    # nobody but a superuser makes a superuser, and nobody widens their own reach.
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "user_permissions")
    OWN_REACH_FIELDS = ("role", "clients", "client", "groups", "is_staff", "is_active")

    def _administers(self, request) -> bool:
        return user_can(request.user, Cap.USERS_ADMINISTER)

    def has_module_permission(self, request) -> bool:
        return self._administers(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._administers(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._administers(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._administers(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._administers(request) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        served = request.user.visible_client_ids()
        return (
            qs.filter(is_superuser=False)
            .exclude(clients__in=Client.objects.exclude(pk__in=served))
            .exclude(client__in=Client.objects.exclude(pk__in=served))
        )

    # Leaving goes through `staff_mark_left` (the action below): it also ends the leaver's
    # sessions and revokes the tokens they issued or that act as them.
    LEAVER_FIELDS = ("employment_status", "left_on")

    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), *self.LEAVER_FIELDS]
        if not request.user.is_superuser:
            fields += self.SUPERUSER_ONLY_FIELDS
            if obj is not None and obj.pk == request.user.pk:
                fields += self.OWN_REACH_FIELDS
        return fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "client" and not request.user.is_superuser:
            kwargs["queryset"] = Client.objects.filter(pk__in=request.user.visible_client_ids())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "clients" and not request.user.is_superuser:
            kwargs["queryset"] = Client.objects.filter(pk__in=request.user.visible_client_ids())
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    actions = ["issue_enrolment_code", "mark_left"]

    @admin.action(description=_("Mark as left today (ends sessions, revokes their tokens)"))
    def mark_left(self, request, queryset):
        for person in queryset:
            try:
                result = staff_mark_left(
                    staff=person, left_on=timezone.localdate(), by=request.user
                )
            except DomainError as exc:
                messages.error(request, f"{person.get_username()}: {exc}")
                continue
            messages.success(
                request,
                _(
                    "%(user)s is marked as left: %(sessions)d sessions ended, "
                    "%(tokens)d API tokens revoked."
                )
                % {
                    "user": person.get_username(),
                    "sessions": result.sessions_ended,
                    "tokens": result.tokens_revoked,
                },
            )

    @admin.action(description=_("Issue a one-time code to enrol an authenticator"))
    def issue_enrolment_code(self, request, queryset):
        for person in queryset:
            try:
                code = two_factor_enrolment_issue(actor=request.user, user=person)
            except DomainError as exc:
                messages.error(request, f"{person.get_username()}: {exc}")
                continue
            messages.warning(
                request,
                _("Enrolment code for %(user)s (shown once; hand it over in person): %(code)s")
                % {"user": person.get_username(), "code": code},
            )
