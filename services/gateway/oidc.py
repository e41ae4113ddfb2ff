"""Sign-in with any OpenID Connect issuer (Google by default) through authlib.

authlib keeps the state, nonce and PKCE verifier of the redirect in Starlette's cookie
session (a short-lived cookie scoped to /auth); the login session itself is the
server-side record made after the callback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request
from starlette.responses import Response

from libs.common.errors import Forbidden, NotFound, SignInFailed
from services.gateway.access import email_allowed
from services.gateway.settings import GatewaySettings, split_csv

PROVIDER = "google"


@dataclass(frozen=True)
class Profile:
    issuer: str
    subject: str
    email: str
    name: str
    picture: str | None


def safe_next(value: str | None) -> str:
    """Where to land after sign-in: a path on this site only, never another host."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


class OidcClient:
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.oauth = OAuth()
        if settings.oidc_configured:
            self.oauth.register(
                name=PROVIDER,
                server_metadata_url=settings.oidc_discovery_url,
                client_id=settings.oidc_client_id,
                client_secret=settings.oidc_client_secret,
                client_kwargs={"scope": "openid email profile", "code_challenge_method": "S256"},
            )

    @property
    def providers(self) -> list[str]:
        return [PROVIDER] if self.settings.oidc_configured else []

    def _client(self) -> Any:
        if not self.settings.oidc_configured:
            raise NotFound("sign-in with Google is not configured on this server")
        return self.oauth.create_client(PROVIDER)

    def redirect_uri(self, request: Request) -> str:
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/") + "/auth/google/callback"
        return str(request.url_for("auth_google_callback"))

    async def start(self, request: Request) -> Response:
        request.session["next"] = safe_next(request.query_params.get("next"))
        response: Response = await self._client().authorize_redirect(
            request, self.redirect_uri(request)
        )
        return response

    async def finish(self, request: Request) -> Profile:
        """Check state, PKCE and the ID token; return who signed in, or raise."""
        client = self._client()
        try:
            token = await client.authorize_access_token(request)
        except OAuthError as exc:
            raise SignInFailed(
                f"sign-in failed: {exc.description or exc.error}", {"reason": exc.error}
            ) from exc
        claims: dict[str, Any] = dict(token.get("userinfo") or {})
        if not claims.get("email"):
            claims.update(await client.userinfo(token=token))
        return self.check(claims)

    def check(self, claims: dict[str, Any]) -> Profile:
        email = str(claims.get("email") or "").lower()
        if not email:
            raise Forbidden("the identity provider did not share an email address")
        if claims.get("email_verified") is False:
            raise Forbidden("the email address is not verified", code="email_not_verified")
        domains = split_csv(self.settings.allowed_email_domains)
        emails = split_csv(self.settings.allowed_emails)
        if not email_allowed(email, domains, emails):
            raise Forbidden(
                f"{email} may not sign in here", {"email": email}, code="email_not_allowed"
            )
        return Profile(
            issuer=str(claims.get("iss") or self.settings.oidc_discovery_url),
            subject=str(claims.get("sub") or email),
            email=email,
            name=str(claims.get("name") or email.partition("@")[0]),
            picture=str(claims["picture"]) if claims.get("picture") else None,
        )
