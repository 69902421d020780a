from __future__ import annotations

from django.db.models import QuerySet

from leadpact.accounts.models import ApiToken, Role, Team, User


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def user_list() -> QuerySet[User]:
    return User.objects.select_related("team").order_by("role", "first_name", "username")


def sales_people() -> QuerySet[User]:
    return User.objects.filter(
        is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
    ).order_by("first_name", "username")


def team_list() -> QuerySet[Team]:
    return Team.objects.select_related("manager").order_by("name")
