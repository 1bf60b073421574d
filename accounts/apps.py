from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in fit for a hospital: audit, automatic log-off, drafts, single sign-on."""

    name = "accounts"
    verbose_name = "Sign-in"

    def ready(self) -> None:
        from accounts import audit  # noqa: F401  (connects the sign-in signal receivers)
