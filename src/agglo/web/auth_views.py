"""Logging in (with lockout and a TOTP second step), setting up two-factor login, and the language switch."""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.views import (
    PasswordChangeView,
    PasswordResetCompleteView,
    PasswordResetConfirmView,
    PasswordResetDoneView,
    PasswordResetView,
    redirect_to_login,
)
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, get_supported_language_variant, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language

from agglo.access.client import client_ip, client_network
from agglo.access.login import (
    DEVICE_COOKIE,
    DEVICE_DAYS,
    LoginRefused,
    authenticate_password,
    device_token,
    totp_begin,
    totp_check,
    totp_confirm,
    totp_enrolled,
    totp_required,
)
from agglo.access.models import ApiToken
from agglo.access.tasks import password_reset_mail
from agglo.access.tokens import api_tokens_revoke_all
from agglo.common.audit import record
from agglo.common.errors import ValidationFailed
from agglo.common.language import SESSION_LANGUAGE, language_chosen, language_remember, language_valid

PENDING = "agglo_pending_2fa"
PENDING_SECONDS = 300


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return settings.LOGIN_REDIRECT_URL


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    """Username and password; then the TOTP code for users who set it up."""
    error = ""
    username = ""
    if request.method == "POST":
        username = request.POST.get("username", "")[:150]
        try:
            user = authenticate_password(
                request, username=username, password=request.POST.get("password", ""), ip=client_ip(request)
            )
        except LoginRefused as exc:
            error = str(exc)
        else:
            if totp_enrolled(user):
                request.session[PENDING] = {"user": user.pk, "at": time.time(), "next": _next(request)}
                return redirect("web:login_code")
            login(request, user)
            return _known_device(user, _in_their_language(request, user, redirect(_next(request))))
    context = {"error": error, "username": username, "next": request.GET.get("next", "")}
    return render(request, "web/login.html", context)


def admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's login page, replaced: its own form took a password with neither the lockout nor the second
    factor (review 49 F1), so whoever opens it signs in at the platform's login and comes back."""
    if request.user.is_authenticated and not request.user.is_staff:
        raise PermissionDenied(_("The admin is for the platform's staff."))
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"), login_url=reverse("web:login"))


def admin_password_change(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin's own password form, replaced by the platform's, which also revokes API tokens (recheck 50 N4)."""
    return redirect("web:password_change")


@require_http_methods(["GET", "POST"])
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step: a 6-digit code from the user's authenticator app."""
    pending = request.session.get(PENDING)
    if not pending or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return redirect("web:login")
    error = ""
    if request.method == "POST":
        user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
        try:
            if user is None:
                raise LoginRefused(_("The code is not valid, or too many attempts were made."))
            totp_check(user, request.POST.get("code", ""), ip=client_ip(request))
        except LoginRefused as exc:
            error = str(exc)
        else:
            request.session.pop(PENDING, None)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            response = redirect(pending.get("next") or settings.LOGIN_REDIRECT_URL)
            return _known_device(user, _in_their_language(request, user, response))
    return render(request, "web/login_code.html", {"error": error})


def _known_device(user: Any, response: HttpResponse) -> HttpResponse:
    """Marks the browser as one the user signed in on, so that a lock others cause on the username does not keep
    the user out here (`access.login.DEVICE_COOKIE`)."""
    response.set_cookie(
        DEVICE_COOKIE,
        device_token(user),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


def _in_their_language(request: HttpRequest, user: Any, response: HttpResponse) -> HttpResponse:
    """After login the pages follow the user's kept language. One picked in this browser session just before
    logging in becomes the kept one; a cookie left by someone else who used the browser earlier does not."""
    picked = request.session.get(SESSION_LANGUAGE)  # login() keeps what the anonymous session held
    if language_valid(picked):
        language_remember(user, picked)
    language = picked if language_valid(picked) else language_chosen(user)
    request.session[SESSION_LANGUAGE] = language or ""
    if language is None:  # a cookie here was left by someone else: the platform's default, not their pick
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, path=settings.LANGUAGE_COOKIE_PATH)
        return response
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's language switch (it sets the cookie). The choice also goes into the session, which the pages
    follow while logged in, and, for a logged-in user, into their kept language for what is written to them."""
    response = set_language(request)
    try:
        language = get_supported_language_variant(request.POST.get("language") or "")
    except LookupError:
        return response
    request.session[SESSION_LANGUAGE] = language
    if request.user.is_authenticated:
        language_remember(request.user, language)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up TOTP: show a new secret and its otpauth URI, then confirm with a first code."""
    context: dict[str, object] = {
        "enrolled": totp_enrolled(request.user),
        "required": totp_required(request.user),
        "errors": {},
    }
    if request.method == "POST" and not context["enrolled"]:
        if request.POST.get("action") == "confirm":
            try:
                totp_confirm(request.user, request.POST.get("code", ""))
            except ValidationFailed as exc:
                context["errors"] = exc.errors
                context["secret"] = request.session.get("agglo_totp_secret", "")
                context["uri"] = request.session.get("agglo_totp_uri", "")
                context["qr"] = _qr(str(context["uri"]))
            else:
                request.session.pop("agglo_totp_secret", None)
                request.session.pop("agglo_totp_uri", None)
                context["enrolled"] = True
        else:
            secret, uri = totp_begin(request.user)
            request.session["agglo_totp_secret"], request.session["agglo_totp_uri"] = secret, uri
            context["secret"], context["uri"], context["qr"] = secret, uri, _qr(uri)
    return render(request, "web/two_factor.html", context)


def _qr(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, for an authenticator app's camera (drawn here: no outside service
    sees the secret). Light modules are white, so that it scans on a dark page too."""
    if not uri:
        return ""
    return mark_safe(segno.make(uri, error="m").svg_inline(scale=5, light="#fff"))  # segno's own markup, no user text


class _RulesAtTheNewPassword:
    """Django puts the password rules' complaints under the confirmation box; they are about the new password."""

    def clean(self) -> dict[str, Any]:
        self.validate_passwords("new_password1", "new_password2")  # type: ignore[attr-defined]
        self.validate_password_for_user(self.user, "new_password1")  # type: ignore[attr-defined]
        return forms.Form.clean(self)  # type: ignore[arg-type]


class NewPasswordForm(_RulesAtTheNewPassword, SetPasswordForm):
    pass


class ChangePasswordForm(_RulesAtTheNewPassword, PasswordChangeForm):
    revoke_tokens = forms.BooleanField(
        label=gettext_lazy("Also revoke my API tokens (scripts using them stop working)"), required=False, initial=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ApiToken.objects.filter(user=self.user, node__isnull=True, revoked_at__isnull=True).exists():
            del self.fields["revoke_tokens"]  # nothing to revoke: not asked


class PasswordChange(PasswordChangeView):
    """A member changes its own password (the old one first); the session stays logged in."""

    template_name = "web/password_change.html"
    form_class = ChangePasswordForm
    success_url = reverse_lazy("web:two_factor")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record("access.password_changed", actor=self.request.user, subject=self.request.user)  # when, not what
        messages.success(self.request, _("Your password was changed."))
        if form.cleaned_data.get("revoke_tokens"):
            _tokens_revoked(self.request, api_tokens_revoke_all(actor=form.user, user=form.user))
        return response


def _tokens_revoked(request: HttpRequest, n: int) -> None:
    if n:
        messages.info(
            request,
            ngettext(
                "Your %(n)d API token was revoked: issue a new one on your account page.",
                "Your %(n)d API tokens were revoked: issue new ones on your account page.",
                n,
            )
            % {"n": n},
        )


class PasswordReset(PasswordResetView):
    """A member who forgot its password asks for a link by e-mail. The page says the same whether or not an account
    has that address, so that it tells nobody who is a member; the link is built on the platform's own address
    (AGGLO_BASE_URL), not on the Host header a request brings."""

    template_name = "web/password_reset.html"
    success_url = reverse_lazy("web:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # the same work for every address: one task queued, which looks the address up and mails the link
        base = settings.AGGLO_BASE_URL.rstrip("/")  # read at each request
        network = client_network(client_ip(self.request))
        mail = partial(password_reset_mail.enqueue, form.cleaned_data["email"], base, get_language(), network)
        transaction.on_commit(mail)
        return redirect(self.get_success_url())


class PasswordResetSent(PasswordResetDoneView):
    template_name = "web/password_reset_done.html"


class PasswordResetSet(PasswordResetConfirmView):
    """The link from the mail: a new password (twice). An old or used link says so."""

    template_name = "web/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("web:password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record("access.password_reset", actor=form.user, subject=form.user)  # when, not what
        # a reset is what someone does who may have lost the account: its tokens go with the old password
        _tokens_revoked(self.request, api_tokens_revoke_all(actor=form.user, user=form.user))
        return response


class PasswordResetComplete(PasswordResetCompleteView):
    template_name = "web/password_reset_complete.html"
