"""What the accounts app keeps: the sign-in audit and coordinators' form drafts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SignInEvent(models.Model):
    """One sign-in, sign-out, failed sign-in, lock-out or automatic log-off.

    `username` is what was typed (or the account's name), so a failed attempt for an account
    that does not exist is recorded too; `user` is set when the account exists.
    """

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", "Signed in"
        SIGN_OUT = "sign_out", "Signed out"
        FAILED = "failed", "Failed sign-in"
        LOCKED_OUT = "locked_out", "Locked out"
        IDLE_LOGOFF = "idle_logoff", "Automatic log-off"

    kind = models.CharField(max_length=16, choices=Kind, db_index=True)
    username = models.CharField(max_length=150, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sign_in_events",
    )
    method = models.CharField(
        max_length=16, blank=True, help_text="password or sso, for sign-ins and failures"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    user_agent = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "sign-in event"
        verbose_name_plural = "sign-in audit"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.username or '?'}"


class FormDraft(models.Model):
    """A half-filled create or edit form, kept when the coordinator's session ran out.

    One per user and page; offered again on that page after signing in. `data` maps field
    names to lists of values, as the form would have posted them.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="form_drafts"
    )
    path = models.CharField(max_length=500)
    data = models.JSONField(default=dict)
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-saved_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "path"], name="one_draft_per_user_and_page")
        ]

    def __str__(self) -> str:
        return f"Draft of {self.path} for {self.user}"
