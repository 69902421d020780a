"""Form posts that change something: one place for what every such page view does around its
service call. The view returns its success message; a refusal (``ApplicationError``) becomes an
error message; either way the person goes back to the page they came from (the form's ``back``
field when it is a path on this site, else the view's default). Permission errors are not
caught: they answer 403 as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from leadpact.common.errors import ApplicationError


@dataclass(frozen=True)
class Done:
    """Success that goes somewhere else than back (e.g. to the thing just made)."""

    message: str
    to: str


#: A view of this kind: returns the success message, a ``Done``, or a response of its own.
PostView = Callable[..., "str | Done | HttpResponse"]
Back = str | Callable[..., str]


def safe_back(request: HttpRequest, default: str) -> str:
    """The form's ``back`` field when it points into this site, else ``default`` (a path or
    a URL name). Never an address elsewhere: a crafted form can't bounce people off-site."""
    back = str(request.POST.get("back") or "")
    if back and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return back
    return resolve_url(default)


def form_post(default: Back) -> Callable[[PostView], Callable[..., HttpResponse]]:
    """Wrap a POST view that returns its success message. ``default`` is where to go back to:
    a URL name or path, or a function of the request and the view's keyword arguments."""

    def decorate(view: PostView) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            fallback = default(request, **kwargs) if callable(default) else default
            try:
                result = view(request, *args, **kwargs)
            except ApplicationError as exc:
                messages.error(request, exc.message)
                return redirect(safe_back(request, fallback))
            if isinstance(result, HttpResponse):
                return result
            if isinstance(result, Done):
                messages.success(request, result.message)
                return redirect(result.to)
            messages.success(request, result)
            return redirect(safe_back(request, fallback))

        return wrapper

    return decorate
