from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from leadpact.accounts import tokens
from leadpact.accounts.models import ApiToken, Role, Team, User
from leadpact.common.errors import ApplicationError, PermissionDeniedError


def user_create(
    *,
    username: str,
    password: str | None,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    title: str = "",
) -> User:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; use one of {', '.join(Role.values)}.")
    if User.objects.filter(username__iexact=username).exists():
        raise ApplicationError(f"A user named {username!r} already exists.", code="duplicate")
    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        role=role,
        team=team,
        title=title,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def user_deactivate(*, user: User, actor: User) -> User:
    """Switch a user off: their tokens stop working and a salesperson's pending offers are
    routed to someone else, in the same transaction."""
    from leadpact.routing.services.router import rep_offers_reroute

    if actor.role != Role.ADMIN:
        raise PermissionDeniedError("Only an admin may deactivate users.")
    if user.pk == actor.pk:
        raise ApplicationError("You cannot deactivate yourself.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if user.role in (Role.SALES_REP, Role.SALES_MANAGER):
        rep_offers_reroute(rep=user, actor=actor)
    return user


def team_create(*, name: str, kind: str, manager: User | None = None) -> Team:
    if kind not in Team.Kind.values:
        raise ApplicationError(f"Unknown team kind {kind!r}.")
    if Team.objects.filter(name__iexact=name).exists():
        raise ApplicationError(f"A team named {name!r} already exists.", code="duplicate")
    return Team.objects.create(name=name, kind=kind, manager=manager)


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its raw secret, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise ApplicationError("Give the token a name, so you can tell it apart later.")
    if len(name) > 100:
        raise ApplicationError("A token name is at most 100 characters.")
    raw, prefix, key_hash = tokens.generate()
    token = ApiToken.objects.create(user=user, name=name, prefix=prefix, key_hash=key_hash)
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    if token.user_id != actor.pk and actor.role != Role.ADMIN:
        raise PermissionDeniedError("You may only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token
