"""Who may do and see what: platform roles, organization memberships and API tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PlatformRole(models.Model):
    """A platform-wide role held by a user, beyond membership of organizations."""

    class Role(models.TextChoices):
        OPERATOR = "operator", _("Platform operator")
        GOVERNMENT = "government", _("Government officer")
        AUDITOR = "auditor", _("Auditor")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="platform_roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="uniq_platform_role")]
        verbose_name = _("platform role")
        verbose_name_plural = _("platform roles")

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class Membership(models.Model):
    """A user acting for an organization, as its administrator or as an ordinary member."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Organization admin")
        MEMBER = "member", _("Organization member")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    joined_at = models.DateTimeField(_("joined at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="uniq_membership")]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization_id} ({self.role})"


class Invitation(models.Model):
    """An organization admin's invitation of a person by e-mail. The mailed link is accepted by a new account, or
    by the account that already uses the address; the admin is not told which (it would tell who has accounts)."""

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=150)
    role = models.CharField(_("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)  # SHA-256 of the mailed token; the token is not kept
    language = models.CharField(max_length=10, blank=True)  # of the mail and the page it links to
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} → {self.organization_id} ({self.role})"


class Node(models.Model):
    """A member's system that calls the API as its organization, identified by Ed25519 keys it registered."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Organization admin")
        MEMBER = "member", _("Organization member")

    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(_("name"), max_length=100)
    role = models.CharField(_("acts as"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    # The account the node acts through: no password, no login, a membership with `role`.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="node")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="uniq_node_name")]
        verbose_name = _("node")
        verbose_name_plural = _("nodes")

    def __str__(self) -> str:
        return f"{self.name} ({self.organization_id})"


class NodeKey(models.Model):
    """One Ed25519 public key of a node. Several may be active at once, so keys rotate without downtime."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="keys")
    key_id = models.CharField(_("key ID"), max_length=64, unique=True)
    public_key = models.BinaryField(_("public key"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("node key")
        verbose_name_plural = _("node keys")

    def __str__(self) -> str:
        return self.key_id


class SeenSignature(models.Model):
    """A node's signed write received, kept while its signature is fresh (`signatures.MAX_AGE`): the same signed
    write sent again within that time is refused, not acted on twice. Only the signature's SHA-256 is kept."""

    digest = models.CharField(max_length=64, primary_key=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.digest


class ApiToken(models.Model):
    """A bearer token for machine clients; only its SHA-256 digest is stored. A node's tokens act as the node."""

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        WRITE = "write", _("Read and write")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    node = models.ForeignKey(Node, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.WRITE)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AccessLogEntry(models.Model):
    """One view of a member's sensitive field group by someone outside it; the owner can read these."""

    class Group(models.TextChoices):
        FINANCIALS = "financials", _("Financials")
        CREDIT = "credit", _("Credit detail")
        CONTACTS = "contacts", _("Contacts")
        DRAWINGS = "drawings", _("Order drawings")  # a buyer's drawings, downloaded by a factory offered the work

    class Channel(models.TextChoices):
        PAGE = "page", _("Web page")
        API = "api", _("API")
        EXPORT = "export", _("Export")
        # a policy's agency read whether a rule's clause holds on the group, its figures withheld: narrowing a
        # threshold again and again would reveal them, so each such reading is logged (policy review 58 H2)
        SCREENED = "screened", _("Policy screening (whether a rule holds; figures withheld)")
        # a policy's agency reckoned a grant by a formula on the group: the sum and the public formula tell the
        # figure (review 96)
        FORMULA = "formula", _("Grant reckoned by formula (the sum tells the figure)")

    occurred_at = models.DateTimeField(_("when"), auto_now_add=True)
    owner = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    group = models.CharField(_("field group"), max_length=12, choices=Group.choices)
    channel = models.CharField(_("through"), max_length=8, choices=Channel.choices)
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    viewer_label = models.CharField(_("viewer"), max_length=150)
    # The organizations the viewer acts for (names kept as they were, so the log survives renames).
    viewer_orgs = models.CharField(_("viewer's organizations"), max_length=400, blank=True)
    # the same in English (each name's Chinese where it has no English one), for readers in English
    viewer_orgs_en = models.CharField(_("viewer's organizations in English"), max_length=400, blank=True)
    # Platform roles the viewer held, e.g. "operator": the owner sees why an outsider could look.
    viewer_roles = models.CharField(_("viewer's roles"), max_length=100, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["owner", "-occurred_at"], name="accesslog_owner_time")]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")

    def __str__(self) -> str:
        return f"{self.viewer_label} → {self.owner_id} {self.group}"


class LoginThrottle(models.Model):
    """Failed logins counted per username and per client address; locked keys are refused without a password
    check. Unknown usernames are counted like real ones, so the lock reveals nothing."""

    key = models.CharField(max_length=200, primary_key=True)  # "user:<lowercased name>" or "ip:<address>"
    failures = models.PositiveIntegerField(default=0)
    first_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("login throttle")
        verbose_name_plural = _("login throttles")

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class TotpDevice(models.Model):
    """A user's TOTP authenticator (RFC 6238, 30-second steps, 6 digits); confirmed once a code was entered."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: a code is never accepted twice.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"TOTP of {self.user_id}"


class RateBucket(models.Model):
    """A token bucket of the rate limiter's database backend."""

    key = models.CharField(max_length=200, primary_key=True)  # "<kind>:<who>"
    tokens = models.FloatField()
    updated = models.FloatField()  # POSIX seconds of the last refill
    allowed = models.BooleanField(default=True)  # the answer to the last request

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f}"


class ProfileView(models.Model):
    """Which other organizations' profiles a user has viewed today, so that each counts once a day towards the
    profile-view limit (a user's rows of earlier days are dropped on their next first view)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey("registry.Organization", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "day"], name="uniq_profile_view_per_day")
        ]
        verbose_name = _("profile viewed today")
        verbose_name_plural = _("profiles viewed today")

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.organization_id}"


class DailyQuota(models.Model):
    """How many profiles a user viewed or exports they made on one day: the anti-harvesting counters."""

    class Kind(models.TextChoices):
        PROFILE_VIEW = "profile_view", _("Profile views")
        EXPORT = "export", _("Exports")
        POLICY_MATCH = "policy_match", _("Rules matched against the members")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    count = models.PositiveIntegerField(default=0)
    alerted = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day", "kind"], name="uniq_daily_quota")]
        verbose_name = _("daily quota")
        verbose_name_plural = _("daily quotas")

    def __str__(self) -> str:
        return f"{self.user_id} {self.day} {self.kind}: {self.count}"
