"""How a web platform is described in the ``platforms`` settings, and how a step finds it.

A step acting on a browser platform names it (``platform: portal``); the orchestrator hands the
skill a ``PlatformInfo(name, config)`` whose ``config`` is validated here::

    platforms:
      portal:
        base_url: http://127.0.0.1:8101
        login:
          path: /login
          username: bot
          password_secret: portal_password     # looked up in the run's secrets
          username_label: Username
          password_label: Password
          submit: Sign in
          logged_in_text: Signed in as
        mask_selectors: ["#customer-id"]       # always blacked out in screenshots
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from skills import BusinessError, PlatformInfo, SkillContext


class LoginConfig(BaseModel):
    """How to sign in to a platform's login form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field("/login", description="Path (or absolute URL) of the login page.")
    username: str = Field(description="The user the bot signs in as.")
    password_secret: str = Field(description="Name of the secret that holds the password.")
    username_label: str = Field("Username", description="Label of the user name field.")
    password_label: str = Field("Password", description="Label of the password field.")
    submit: str = Field("Sign in", description="Accessible name of the sign-in button.")
    logged_in_text: str | None = Field(
        "Signed in as", description="Text visible on every signed-in page; checked after signing in."
    )


class BrowserPlatformConfig(BaseModel):
    """The ``config`` of a web platform: where it is, how to sign in, what to hide."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = Field(description="Root URL that relative paths in steps are joined to.")
    login: LoginConfig | None = Field(None, description="Sign-in settings; omit for open platforms.")
    timeout_seconds: float = Field(10.0, gt=0, description="Wait for an element or a condition.")
    navigation_timeout_seconds: float = Field(20.0, gt=0, description="Wait for a page to load.")
    alert_selector: str = Field(
        '[role="alert"]', description="Elements whose text is a validation message (business error)."
    )
    mask_selectors: list[str] = Field(
        default_factory=list, description="Extra selectors always masked in evidence screenshots."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"expected an http(s) URL such as http://127.0.0.1:8101, found {value!r}")
        return value.rstrip("/") + "/"

    def url(self, path_or_url: str) -> str:
        """An absolute URL for ``path_or_url`` (absolute URLs are kept as they are)."""
        return urljoin(self.base_url, path_or_url)

    def is_login_url(self, url: str) -> bool:
        """Whether ``url`` is this platform's login page (a redirect there means signed out)."""
        if self.login is None:
            return False
        return urlsplit(url).path.rstrip("/") == urlsplit(self.url(self.login.path)).path.rstrip("/")


def parse_platform(platform: PlatformInfo) -> BrowserPlatformConfig:
    """Validate a platform's config; a wrong one is a located ``BusinessError`` (a person must fix it)."""
    try:
        return BrowserPlatformConfig.model_validate(dict(platform.config))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise BusinessError(
            f"platform {platform.name!r} is not a valid browser platform: {problems}",
            code="platform_misconfigured",
        ) from None


def platform_of(ctx: SkillContext) -> tuple[PlatformInfo, BrowserPlatformConfig]:
    """The step's platform and its parsed config, or a ``BusinessError`` saying what is missing."""
    if ctx.platform is None:
        raise BusinessError(
            f"skill {ctx.skill_id} acts on a web platform but step {ctx.step_id!r} names none "
            "(add 'platform: <name>' to the step)",
            code="platform_missing",
        )
    return ctx.platform, parse_platform(ctx.platform)


def password_of(login: LoginConfig, secrets: Mapping[str, Any], platform_name: str) -> str:
    """The login password from the run's secrets."""
    password = secrets.get(login.password_secret)
    if not password:
        raise BusinessError(
            f"platform {platform_name!r} signs in with secret {login.password_secret!r}, "
            "which is not among the run's secrets",
            code="secret_missing",
        )
    return str(password)
