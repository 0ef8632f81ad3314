from django.urls import include, path

from azukari.web import views
from azukari.web.pages import backlog, callbacks, desk, floor, notices, portal, setup, workspace
from azukari.web.pages import criteria, incidents

urlpatterns = [
    path("", views.home, name="home"),
    path("cases/", views.case_list, name="case-list"),
    path("cases/<int:case_id>/", views.case_detail, name="case-detail"),
    path("cases/<int:case_id>/named-staff/", views.case_named_staff, name="case-named-staff"),
    path("customers/<int:customer_id>/reveal/", views.customer_reveal, name="customer-reveal"),
    path("reports/named-staff/", views.named_staff_report_view, name="named-staff-report"),
    path("staff/agreements/", views.agreement_register_view, name="agreement-register"),
    path("account/2fa/", views.two_factor, name="two-factor"),
    path("language/", views.language_set, name="language-set"),
    path("backlog/", backlog.backlog, name="backlog"),
    path("backlog/list/<slug:kind>/", backlog.backlog_list, name="backlog-list"),
    path("floor/", floor.floor, name="floor"),
    path("floor/contacts/<int:contact_id>/join/", floor.contact_join, name="floor-contact-join"),
    path(
        "floor/contacts/<int:contact_id>/take-over/",
        floor.contact_take_over,
        name="floor-contact-take-over",
    ),
    path("floor/contacts/<int:contact_id>/end/", floor.call_end, name="floor-call-end"),
    path("notices/", notices.notices, name="notices"),
    path("notices/<int:notice_id>/", notices.notice, name="notice"),
    path("notices/<int:notice_id>/read/", notices.notice_read, name="notice-read"),
    path("incidents/", incidents.incident_register, name="incidents"),
    path("incidents/new/", incidents.incident_new, name="incident-new"),
    path("incidents/<int:incident_id>/", incidents.incident_page, name="incident"),
    path("floor/criteria/", criteria.criteria_clients, name="criteria"),
    path("floor/criteria/<slug:client_code>/", criteria.criteria_edit, name="criteria-edit"),
    path("portal/inquiries/", portal.portal_inquiries, name="portal-inquiries"),
    path("portal/inquiries/<int:inquiry_id>/", portal.portal_inquiry, name="portal-inquiry"),
    path("desk/", desk.desk, name="desk"),
    path("desk/incoming/", desk.desk_incoming, name="desk-incoming"),
    path("desk/customers/<int:customer_id>/", desk.pop, name="desk-pop"),
    path(
        "desk/customers/<int:customer_id>/named-staff/",
        desk.pop_named_staff,
        name="desk-pop-named-staff",
    ),
    path("desk/cases/<int:case_id>/", workspace.case_page, name="desk-case"),
    path("callbacks/", callbacks.callback_list, name="callbacks"),
    path("callbacks/<int:callback_id>/", callbacks.callback_brief, name="callback-brief"),
    path("setup/", setup.clients, name="setup-clients"),
    path("setup/staff/", setup.staff_file, name="setup-staff-import"),
    path("setup/<slug:client_code>/", setup.checklist, name="setup-checklist"),
    path("setup/<slug:client_code>/go-live/", setup.go_live, name="setup-go-live"),
    path("setup/<slug:client_code>/policy/", setup.policy, name="setup-policy"),
    path(
        "setup/<slug:client_code>/policy/confirm/",
        setup.policy_confirm,
        name="setup-policy-confirm",
    ),
    # The cancellation desk the operator desk links to (terms, options, decisions).
    path("", include("azukari.subscriptions.urls")),
]
