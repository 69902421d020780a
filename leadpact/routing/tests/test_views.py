"""Pages: a role that may and a role that may not, the rep's queue end to end."""

import pytest
from django.urls import reverse

from leadpact.leads.models import LeadState
from leadpact.leads.services.lifecycle import lead_offer
from leadpact.notifications.services import NotificationInput, notify
from leadpact.routing.models import Offer, RoutingRule, SlaPolicy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "allowed", "denied"),
    [
        ("routing:queue", ["sales_rep", "sales_manager"], ["marketing", "admin"]),
        ("routing:rules", ["admin", "sales_manager"], ["sales_rep", "marketing"]),
        ("routing:fallback", ["admin", "sales_manager"], ["sales_rep", "marketing"]),
        ("routing:policies", ["admin", "sales_manager", "marketing"], ["sales_rep"]),
    ],
)
def test_pages_check_roles(client_for, name, allowed, denied):
    for role in allowed:
        assert client_for(role).get(reverse(name)).status_code == 200, role
    for role in denied:
        assert client_for(role).get(reverse(name)).status_code == 403, role


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("routing:queue"))
    assert response.status_code == 302 and "login" in response.url


def test_queue_lists_offers_and_accepts_with_one_click(users, client_for, mql, policies):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    client = client_for("sales_rep")
    page = client.get(reverse("routing:queue"))
    assert str(mql) in page.content.decode()
    response = client.post(reverse("routing:accept", args=[mql.pk]), follow=True)
    assert "Accepted" in response.content.decode()
    mql.refresh_from_db()
    assert mql.state == LeadState.ACCEPTED


def test_queue_runs_a_fixed_number_of_queries(
    users, client_for, policies, django_assert_max_num_queries
):
    from leadpact.factories import LeadFactory

    for _ in range(15):
        lead_offer(lead=LeadFactory(state=LeadState.MQL), rep=users["sales_rep"], actor=None)
    client = client_for("sales_rep")
    with django_assert_max_num_queries(12):
        assert client.get(reverse("routing:queue")).status_code == 200


def test_reject_without_reason_shows_the_error_and_changes_nothing(users, client_for, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    response = client_for("sales_rep").post(
        reverse("routing:reject", args=[mql.pk]), {"reason": ""}, follow=True
    )
    assert "Say why" in response.content.decode()
    assert Offer.objects.get(lead=mql).status == Offer.Status.PENDING


def test_other_rep_cannot_accept(users, client_for, mql):
    lead_offer(lead=mql, rep=users["sales_rep"], actor=None)
    response = client_for("other_rep").post(reverse("routing:accept", args=[mql.pk]), follow=True)
    assert "offered to someone else" in response.content.decode()
    mql.refresh_from_db()
    assert mql.state == LeadState.OFFERED


def test_manager_adds_rule_and_bad_json_is_explained(users, client_for):
    client = client_for("sales_manager")
    team = users["sales_rep"].team
    bad = client.post(
        reverse("routing:rules"),
        {"name": "X", "conditions": "[{", "target": f"team:{team.pk}"},
    )
    assert bad.status_code == 200 and "not valid JSON" in bad.content.decode()
    good = client.post(
        reverse("routing:rules"),
        {
            "name": "Brazil",
            "conditions": '[{"field": "country", "op": "eq", "value": "Brazil"}]',
            "target": f"team:{team.pk}",
        },
    )
    assert good.status_code == 302
    assert RoutingRule.objects.get().team == team
    denied = client_for("sales_rep").post(
        reverse("routing:rules"), {"name": "Y", "conditions": "[]", "target": f"team:{team.pk}"}
    )
    assert denied.status_code == 403 and RoutingRule.objects.count() == 1


def test_policies_page_edit_rights(users, client_for):
    data = {
        "name": "Answer",
        "kind": "offer_response",
        "amount": "4",
        "warn_before_minutes": "30",
        "escalation": "both",
        "team": "",
    }
    assert client_for("marketing").post(reverse("routing:policies"), data).status_code == 403
    assert client_for("admin").post(reverse("routing:policies"), data).status_code == 302
    policy = SlaPolicy.objects.get()
    edit = dict(data, amount="2")
    assert (
        client_for("marketing")
        .post(reverse("routing:policy_edit", args=[policy.pk]), edit)
        .status_code
        == 403
    )
    client_for("sales_manager").post(reverse("routing:policy_edit", args=[policy.pk]), edit)
    policy.refresh_from_db()
    assert policy.amount == 2
    page = client_for("marketing").get(reverse("routing:policies")).content.decode()
    assert "amount: 4 → 2" in page


def test_fallback_bulk_assign(users, client_for):
    from leadpact.factories import LeadFactory
    from leadpact.routing.services.router import leads_route

    leads = [LeadFactory(state=LeadState.MQL) for _ in range(2)]
    leads_route()
    client = client_for("sales_manager")
    assert "no routing rule matched" in client.get(reverse("routing:fallback")).content.decode()
    response = client.post(
        reverse("routing:fallback"),
        {"rep": users["sales_rep"].pk, "lead": [lead.pk for lead in leads]},
    )
    assert response.status_code == 302
    assert Offer.objects.filter(rep=users["sales_rep"], status="pending").count() == 2


def test_notifications_page_shows_only_your_own(users, client_for):
    notify([NotificationInput(users["sales_rep"].pk, "x", "For the rep")], email=False)
    assert (
        "For the rep" in client_for("sales_rep").get(reverse("notifications:list")).content.decode()
    )
    assert (
        "For the rep"
        not in client_for("marketing").get(reverse("notifications:list")).content.decode()
    )
    client_for("sales_rep").post(reverse("notifications:read"))
    assert users["sales_rep"].notifications.filter(read_at__isnull=True).count() == 0


def test_odd_numbers_in_routing_forms_are_refused_not_a_500(client_for, users):
    client = client_for("sales_manager")
    rep = users["sales_rep"]
    response = client.post(
        f"/routing/reps/{rep.pk}/availability/", {"weight": "²", "max_open_leads": ""}, follow=True
    )
    assert response.status_code == 200 and "Weight must be a whole number" in response.text
