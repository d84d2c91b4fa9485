"""The one HTTP client for an upstream Kaltura: format=1 JSON in and out, a session (KS) started
on first use and renewed before it runs out, and every failure as an `UpstreamError` that says
whether retrying may help.

Wire (https://developer.kaltura.com/api-docs/VPaaS-API-Getting-Started/api-guidelines.html):
POST /api_v3/service/<service>/action/<action> with a JSON body; objects are dicts naming their
`objectType`; a None field is cleared with `<name>__null`. Errors come back with HTTP 200 as
`{"objectType": "KalturaAPIException", "code", "message", "args"}`. Multirequests
(https://api.sg.kaltura.com/api_v3/testmeDoc/general/multirequest.html) number their calls from 1,
so `{1:result:id}` is the first call's id. App-token sessions follow
https://developer.kaltura.com/api-docs/VPaaS-API-Getting-Started/application-tokens.html.

Nothing here retries a transient failure: the outbox worker does, with backoff. The one retry
is a refused session, started again once. Secrets and sessions never reach an exception's text.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from django.conf import settings

if TYPE_CHECKING:
    from calendar_app.models import KalturaConnection

CLIENT_TAG = "lecture-scheduler"
JSON_FORMAT = 1
ADMIN_SESSION = 2
ADMIN_SECRET, APP_TOKEN = "admin_secret", "app_token"
HASH_TYPES = frozenset({"MD5", "SHA1", "SHA256", "SHA512"})
# Renew a session when less than a tenth of its life, or five minutes, is left (whichever is
# less): room for clock skew and calls in flight, without renewing a short session constantly.
RENEW_FRACTION, RENEW_MARGIN = 0.1, 300.0
# Kaltura reports every refused session (bad signature, expired, ended, another partner's) as
# INVALID_KS, the reason in its ERR_CODE arg (api_v3/lib/KalturaErrors.php, kCurrentContext;
# our kaltura_api/ks.py does the same): there is no EXPIRED_KS code. A session of the wrong type
# (ERR_CODE -4) is renewed in vain, once, before its error is raised.
SESSION_REFUSED = frozenset({"INVALID_KS"})
# Errors that say "not now" rather than "never", from kaltura/server @c447fdb:
# KalturaFrontController::getExceptionObject turns any unexpected exception into
# INTERNAL_SERVERL_ERROR (sic) and a database exception into INTERNAL_DATABASE_ERROR; a lock it
# waited for too long is LOCK_TIMED_OUT; RESOURCE_IS_RESERVED is a resource held for a few
# seconds by another session's getConflicts (kResourceReservation). Anything else is about the
# request itself, and sending it again gives the same answer.
TRANSIENT_CODES = frozenset(
    {"INTERNAL_SERVERL_ERROR", "INTERNAL_DATABASE_ERROR", "LOCK_TIMED_OUT", "RESOURCE_IS_RESERVED"}
)
# What the upstream answers for an id it does not have (Kaltura's generic code and its own).
NOT_FOUND = frozenset(
    {
        "INVALID_OBJECT_ID",
        "SCHEDULE_EVENT_ID_NOT_FOUND",
        "SCHEDULE_RESOURCE_ID_NOT_FOUND",
        "ENTRY_ID_NOT_FOUND",
    }
)
# HTTP statuses a proxy or load balancer answers while the API behind it is busy or away.
RETRY_STATUSES = frozenset({408, 429})
_NOT_JSON = object()
T = TypeVar("T")


class UpstreamError(Exception):
    """The upstream did not do what was asked. `transient`: the same request may work later."""

    def __init__(self, code: str, message: str, transient: bool = False):
        super().__init__(code, message, transient)
        self.code, self.message, self.transient = code, message, transient

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


class KalturaError(UpstreamError):
    """Kaltura's error envelope (KalturaAPIException); `arguments` are its named args."""

    def __init__(self, code: str, message: str, arguments: dict[str, str] | None = None):
        super().__init__(code, message, code in TRANSIENT_CODES)
        self.arguments = dict(arguments or {})
        self.args = (code, message, arguments)  # what pickle calls the class with again


class Unreachable(UpstreamError):
    """No Kaltura answer: no connection, a timeout, an HTTP error, or a body that is not JSON."""


@dataclass(frozen=True)
class Credentials:
    auth: str  # ADMIN_SECRET or APP_TOKEN
    admin_secret: str = field(default="", repr=False)
    user_id: str = ""
    app_token_id: str = ""
    app_token: str = field(default="", repr=False)
    hash_type: str = "SHA256"

    def __post_init__(self) -> None:
        if self.auth not in (ADMIN_SECRET, APP_TOKEN):
            raise ValueError(f"auth must be {ADMIN_SECRET!r} or {APP_TOKEN!r}, not {self.auth!r}")
        if self.hash_type.upper() not in HASH_TYPES:
            raise ValueError(f"hash_type must be one of {sorted(HASH_TYPES)}, not {self.hash_type!r}")

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.admin_secret, self.app_token) if s)


@dataclass(frozen=True)
class Call:
    """One call of a multirequest."""

    service: str
    action: str
    params: dict[str, Any] = field(default_factory=dict)


class KalturaClient:
    """One upstream account: a pooled HTTP client and its session. Safe to share between threads."""

    def __init__(
        self,
        service_url: str,
        partner_id: int,
        credentials: Credentials,
        *,
        timeout: float = 10.0,
        session_seconds: int = 86400,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._api = service_url.rstrip("/") + "/api_v3/"
        self._partner_id = partner_id
        self._credentials = credentials
        self._session_seconds = session_seconds
        self._clock = clock
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(5.0, timeout)),
            limits=httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=30),
            # Also in the query: a request refused before its body is read still answers in JSON.
            params={"format": JSON_FORMAT},
            transport=transport,
        )
        self._lock = threading.Lock()
        self._ks: str | None = None
        self._renew_at = 0.0

    def call(self, service: str, action: str, **params: Any) -> Any:
        """The call's decoded result. Raises KalturaError or Unreachable."""
        path = f"service/{service}/action/{action}"
        return self._with_session(lambda ks: self._post(path, {**params, "ks": ks}))

    def upload(self, service: str, action: str, file: tuple[str, bytes], **params: Any) -> Any:
        """A call that carries a file (`fileData`: its name and bytes), as the official clients
        send one: multipart, the other params as JSON in a part named `json`."""
        path = f"service/{service}/action/{action}"
        return self._with_session(lambda ks: self._post(path, {**params, "ks": ks}, file=file))

    def multirequest(self, calls: Sequence[Call]) -> list[Any]:
        """All calls in one round trip: each one's result, or its KalturaError (returned, not
        raised). Raises only when the round trip itself fails."""
        if not calls:
            return []
        numbered = {
            str(n): {"service": c.service, "action": c.action, **c.params} for n, c in enumerate(calls, 1)
        }
        return self._with_session(lambda ks: self._post_multirequest({**numbered, "ks": ks}))

    def session(self) -> str:
        """The current KS, started on first use and again when it is about to run out."""
        with self._lock:  # held while starting one: other threads wait for it rather than start their own
            now = self._clock()
            if self._ks is None or now >= self._renew_at:
                self._ks, lifetime = self._start_session(now)
                self._renew_at = now + lifetime - min(lifetime * RENEW_FRACTION, RENEW_MARGIN)
            return self._ks

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ sessions

    def _with_session(self, send: Callable[[str], T]) -> T:
        """`send` with the KS; once more with a new one when the upstream refuses it (ended,
        expired early, or its signing secret changed)."""
        ks = self.session()
        try:
            return send(ks)
        except KalturaError as error:
            if error.code not in SESSION_REFUSED:
                raise
        self._forget(ks)
        return send(self.session())

    def _forget(self, ks: str) -> None:
        with self._lock:
            if self._ks == ks:  # another thread may have renewed it already
                self._ks = None

    def _start_session(self, now: float) -> tuple[str, float]:
        """A new KS and its lifetime in seconds."""
        creds = self._credentials
        if creds.auth == ADMIN_SECRET:
            ks = self._post(
                "service/session/action/start",
                {"secret": creds.admin_secret, "userId": creds.user_id, "type": ADMIN_SESSION,
                 "partnerId": self._partner_id, "expiry": self._session_seconds,
                 "privileges": "disableentitlement"},
            )  # fmt: skip
            return _ks_of(ks), self._session_seconds
        widget = self._post("service/session/action/startWidgetSession", {"widgetId": f"_{self._partner_id}"})
        widget_ks = _ks_of(widget)
        info = self._post(
            "service/appToken/action/startSession",
            {"ks": widget_ks, "id": creds.app_token_id, "expiry": self._session_seconds,
             "tokenHash": token_hash(creds.hash_type, widget_ks, creds.app_token)},
        )  # fmt: skip
        return _ks_of(info), _lifetime(self._session_seconds, info.get("expiry"), now)

    # ------------------------------------------------------------------ the wire

    def _post_multirequest(self, body: dict[str, Any]) -> list[Any]:
        answer = self._post("service/multirequest", body)
        if not isinstance(answer, list):
            raise Unreachable("UPSTREAM_BAD_RESPONSE", "a multirequest was not answered with a list")
        # Every call refused the session: the round trip failed, and nothing was written.
        if answer and all(_refused(r) for r in answer):
            raise answer[0]
        return answer

    def _post(self, path: str, params: dict[str, Any], file: tuple[str, bytes] | None = None) -> Any:
        """The decoded answer; an error envelope raised, or in a list (a multirequest's) returned
        in its slot. With a `file`, the body is multipart (Client.php's form)."""
        if self._http.is_closed:  # client_for replaced this client: the caller retries with the new one
            raise Unreachable("UPSTREAM_UNREACHABLE", "the client was closed (its connection changed)", True)
        body = {"format": JSON_FORMAT, "clientTag": CLIENT_TAG, **wire(params)}
        hidden = (*self._credentials.secrets, *([params["ks"]] if params.get("ks") else []))
        try:
            if file is None:
                response = self._http.post(self._api + path, json=body)
            else:
                files = {"fileData": (file[0], file[1], "application/octet-stream")}
                response = self._http.post(self._api + path, data={"json": json.dumps(body)}, files=files)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
            raise Unreachable("UPSTREAM_BAD_URL", f"{type(error).__name__}: {error}") from None
        except httpx.TransportError as error:  # refused, reset, DNS, timeouts
            raise Unreachable("UPSTREAM_UNREACHABLE", f"{type(error).__name__}: {error}", True) from None
        data = _decoded(response, path)
        if isinstance(data, list):
            return [_error(item, hidden) if _is_error(item) else item for item in data]
        if _is_error(data):
            raise _error(data, hidden)
        return data


def wire(value: Any) -> Any:
    """A value as Kaltura reads JSON: a None field becomes `<name>__null` (Kaltura's way to clear
    it), an empty list `{"-": ""}` (PHP would drop an empty array, as the official client knows)."""
    if isinstance(value, dict):
        return {f"{k}__null" if v is None else k: "" if v is None else wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(item) for item in value] if value else {"-": ""}
    return value


def token_hash(hash_type: str, widget_ks: str, token: str) -> str:
    """What appToken.startSession checks: hex of hash(the KS it is called with + the token)."""
    return hashlib.new(hash_type.lower(), (widget_ks + token).encode()).hexdigest()


def _ks_of(answer: Any) -> str:
    """The KS in a session call's answer: the string itself, or a session object's `ks`."""
    ks = answer.get("ks") if isinstance(answer, dict) else answer
    if not isinstance(ks, str) or not ks:
        raise Unreachable("UPSTREAM_BAD_RESPONSE", "the session call answered no KS")
    return ks


def _lifetime(requested: int, expiry: Any, now: float) -> float:
    """Seconds an app-token session lasts by our clock: what the token granted (it may cap the
    request), never more than asked. An expiry already past by our clock means the clocks
    disagree; the request is then the better guess (a refusal still renews it)."""
    granted = expiry - now if isinstance(expiry, int | float) else requested
    return min(requested, granted) if granted > 0 else requested


def _decoded(response: httpx.Response, path: str) -> Any:
    status = response.status_code
    try:
        data = response.json()
    except ValueError:
        data = _NOT_JSON
    if _is_error(data):  # Kaltura answers 200, but a proxy may pass its envelope on with another status
        return data
    if status >= 500 or status in RETRY_STATUSES:
        raise Unreachable(f"UPSTREAM_HTTP_{status}", f"{path} answered HTTP {status}", True)
    if not response.is_success:  # a wrong service URL (404), a redirect to follow by hand (301)
        raise Unreachable(f"UPSTREAM_HTTP_{status}", f"{path} answered HTTP {status}")
    if data is _NOT_JSON:
        raise Unreachable("UPSTREAM_NOT_KALTURA", f"{path} answered something that is not JSON")
    return data


def _is_error(data: Any) -> bool:
    return isinstance(data, dict) and data.get("objectType") == "KalturaAPIException"


def _refused(result: Any) -> bool:
    return isinstance(result, KalturaError) and result.code in SESSION_REFUSED


def _error(data: dict[str, Any], hidden: Sequence[str]) -> KalturaError:
    """The envelope as a KalturaError. INVALID_KS echoes the session it refused: it is blanked,
    with any secret of ours, from the message and the args."""

    def clean(text: Any) -> str:
        text = "" if text is None else str(text)
        for secret in hidden:
            text = text.replace(secret, "***")
        return text

    return KalturaError(
        clean(data.get("code")) or "UNKNOWN_ERROR",
        clean(data.get("message")),
        {clean(k): clean(v) for k, v in _arguments(data.get("args")).items()},
    )


def _arguments(args: Any) -> dict[Any, Any]:
    """Kaltura's JSON writes args as an object, `[]` when there are none; the XML form's list of
    KalturaApiExceptionArg items is read too."""
    if isinstance(args, dict):
        return args
    if isinstance(args, list):
        return {a.get("name"): a.get("value") for a in args if isinstance(a, dict) and a.get("name")}
    return {}


# -------------------------------------------------------------------- one client per connection

_clients: dict[Any, tuple[Any, KalturaClient]] = {}
_clients_lock = threading.Lock()


def client_for(connection: KalturaConnection) -> KalturaClient:
    """The process's client for `connection`, so its connection pool and session are reused;
    a connection whose address or credentials changed gets a new client, the old one closed."""
    version = (connection.service_url, connection.upstream_partner_id, credentials_of(connection))
    with _clients_lock:
        cached = _clients.get(connection.pk)
        if cached is not None and cached[0] == version:
            return cached[1]
        if cached is not None:
            cached[1].close()
        client = KalturaClient(
            connection.service_url,
            connection.upstream_partner_id,
            credentials_of(connection),
            timeout=settings.SYNC_HTTP_TIMEOUT,
        )
        _clients[connection.pk] = (version, client)
        return client


def credentials_of(connection: KalturaConnection) -> Credentials:
    return Credentials(
        auth=connection.auth,
        admin_secret=connection.admin_secret,
        user_id=connection.user_id,
        app_token_id=connection.app_token_id,
        app_token=connection.app_token,
        hash_type=connection.app_token_hash_type,
    )
