"""The pact: who writes, who approves, one live version, nothing half-saved on failure."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import IntegrityError, transaction

from leadpact.accounts.models import Role
from leadpact.common.errors import ApplicationError, PermissionDeniedError
from leadpact.factories import UserFactory
from leadpact.scoring.models import LeadProfile, ProfileEvent, ProfileStatus
from leadpact.scoring.selectors import profile_approvals, profile_diff, profile_live
from leadpact.scoring.services.profiles import (
    profile_approve,
    profile_copy_to_draft,
    profile_create_draft,
    profile_go_live,
    profile_propose,
    profile_update_draft,
    profile_withdraw,
)
from leadpact.scoring.tests.pact import approved, draft, live, spec

pytestmark = pytest.mark.django_db


def test_marketing_proposes_and_one_marketing_plus_one_manager_approve(users):
    profile = draft(users)
    assert profile.status == ProfileStatus.DRAFT and profile.version == 1
    profile_propose(profile=profile, actor=users["marketing"])
    other = UserFactory(username="m2", role=Role.MARKETING)
    profile_approve(profile=profile, actor=users["sales_manager"])
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.PROPOSED  # one side is not enough
    profile_approve(profile=profile, actor=other)
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.APPROVED
    assert [e.actor_role for e in profile_approvals(profile=profile)] == [
        Role.SALES_MANAGER,
        Role.MARKETING,
    ]
    actions = list(profile.events.values_list("action", flat=True))
    assert actions == ["created", "proposed", "approved", "approved"]


@pytest.mark.parametrize("role", ["sales_rep", "other_rep", "admin"])
def test_rep_or_admin_cannot_approve(users, role):
    profile = draft(users)
    profile_propose(profile=profile, actor=users["marketing"])
    with pytest.raises(PermissionDeniedError, match="marketing user or a sales manager"):
        profile_approve(profile=profile, actor=users[role])
    assert not ProfileEvent.objects.filter(action="approved").exists()


def test_the_author_alone_cannot_approve(users):
    profile = draft(users)
    profile_propose(profile=profile, actor=users["marketing"])
    with pytest.raises(PermissionDeniedError, match="You wrote this version"):
        profile_approve(profile=profile, actor=users["marketing"])
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.PROPOSED


def test_same_side_twice_does_not_make_an_approval(users):
    profile = draft(users)
    profile_propose(profile=profile, actor=users["marketing"])
    profile_approve(profile=profile, actor=users["sales_manager"])
    with pytest.raises(ApplicationError, match="already approved"):
        profile_approve(profile=profile, actor=users["sales_manager"])
    other_manager = UserFactory(username="mgr2", role=Role.SALES_MANAGER)
    with pytest.raises(ApplicationError, match="waits for the other side"):
        profile_approve(profile=profile, actor=other_manager)
    profile.refresh_from_db()
    assert profile.status == ProfileStatus.PROPOSED


def test_reps_cannot_write_drafts_and_drafts_only_are_edited(users):
    with pytest.raises(PermissionDeniedError):
        profile_create_draft(actor=users["sales_rep"], scorecard=spec(), threshold=500)
    profile = draft(users)
    profile_propose(profile=profile, actor=users["marketing"])
    with pytest.raises(ApplicationError, match="only a draft can be edited"):
        profile_update_draft(profile=profile, actor=users["marketing"], threshold=10)


def test_draft_is_not_approvable_and_withdraw_resets_approvals(users):
    profile = draft(users)
    with pytest.raises(ApplicationError, match="Only a proposed version"):
        profile_approve(profile=profile, actor=users["sales_manager"])
    profile_propose(profile=profile, actor=users["marketing"])
    profile_approve(profile=profile, actor=users["sales_manager"])
    profile_withdraw(profile=profile, actor=users["marketing"], reason="rethink")
    profile_propose(profile=profile, actor=users["marketing"])
    assert profile_approvals(profile=profile) == []


def test_going_live_needs_approval(users):
    profile = draft(users)
    with pytest.raises(ApplicationError, match="needs one marketing and one sales-manager"):
        profile_go_live(profile=profile, actor=users["marketing"])
    assert profile_live() is None


def test_only_one_live_profile_by_constraint(users):
    first = live(users)
    second = draft(users)
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadProfile.objects.filter(pk=second.pk).update(status=ProfileStatus.LIVE)
    assert profile_live() == first


def test_new_live_retires_the_old_one_with_dates(users):
    first = live(users)
    second = approved(users, threshold=600)
    profile_go_live(profile=second, actor=users["sales_manager"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ProfileStatus.RETIRED and first.effective_to is not None
    assert second.status == ProfileStatus.LIVE and second.effective_from == first.effective_to
    assert profile_live() == second


def test_failure_while_going_live_leaves_everything_as_it_was(users):
    first = live(users)
    second = approved(users, threshold=100)
    boom = RuntimeError("broker down")
    with (
        mock.patch("leadpact.scoring.services.profiles.rescore_run_start", side_effect=boom),
        pytest.raises(RuntimeError),
    ):
        profile_go_live(profile=second, actor=users["marketing"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ProfileStatus.LIVE and first.effective_to is None
    assert second.status == ProfileStatus.APPROVED
    assert not ProfileEvent.objects.filter(profile=second, action="went_live").exists()


def test_bad_edits_are_refused_and_nothing_changes(users):
    profile = draft(users)
    with pytest.raises(ApplicationError, match="whole number"):
        profile_update_draft(
            profile=profile, actor=users["marketing"], points={("employees", 1): "lots"}
        )
    with pytest.raises(ApplicationError, match="No bin 9"):
        profile_update_draft(
            profile=profile, actor=users["marketing"], points={("employees", 9): 1}
        )
    with pytest.raises(ApplicationError, match="threshold"):
        profile_update_draft(profile=profile, actor=users["marketing"], threshold="high")
    profile.refresh_from_db()
    assert profile.scorecard == spec() and profile.threshold == 560


def test_diff_shows_points_and_threshold_changes(users):
    base = live(users)
    edit = profile_copy_to_draft(profile=base, actor=users["marketing"])
    profile_update_draft(
        profile=edit, actor=users["marketing"], points={("employees", 1): 55}, threshold=580
    )
    edit.refresh_from_db()
    diff = profile_diff(base, edit)
    assert diff["threshold"] == {"old": 560, "new": 580}
    assert diff["points"] == [{"attribute": "employees", "bin": ">= 50", "old": 40, "new": 55}]
    assert not diff["unchanged"]
    edited = ProfileEvent.objects.get(profile=edit, action="edited")
    assert edited.actor == users["marketing"] and edited.data["threshold"]["new"] == 580


def test_a_version_differing_only_in_base_points_is_not_unchanged(users):
    base = live(users)
    edit = profile_copy_to_draft(profile=base, actor=users["marketing"])
    assert profile_diff(base, edit)["unchanged"]
    edit.scorecard = {**edit.scorecard, "base_points": edit.scorecard["base_points"] + 10}
    diff = profile_diff(base, edit)
    assert diff["base_points"]["new"] == diff["base_points"]["old"] + 10
    assert not diff["unchanged"]
