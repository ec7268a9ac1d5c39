"""The one place adapters are built: settings + clock -> Services, once per warm instance, with
what the instance remembers between invocations (compiled webhook mappings, recipient groups,
template names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sesrelay.clock import Clock, SystemClock
from sesrelay.gateway import SesGateway, UnconfiguredGateway
from sesrelay.receivers import ReceiverCache
from sesrelay.settings import Settings, packaged_config_path
from sesrelay.template_names import TemplateCache

if TYPE_CHECKING:
    from sesrelay.config.model import RelayConfig
    from sesrelay.keys import KeyScope
    from sesrelay.ratelimit import SesThrottle
    from sesrelay.records import RecordBook
    from sesrelay.state import StateStore
    from sesrelay.webhooks.mapping import CompiledMapping


@dataclass
class Services:
    settings: Settings
    clock: Clock
    ses: SesGateway
    _state: StateStore | None = field(default=None, repr=False)
    _config: RelayConfig | None = field(default=None, repr=False)
    #: Webhook source name -> its `when`/`send` mapping, compiled on the source's first delivery.
    webhook_mappings: dict[str, CompiledMapping] = field(default_factory=dict, repr=False)
    receivers: ReceiverCache = field(default_factory=ReceiverCache, repr=False)
    #: Template name -> TemplateID, for jobs and mappings that name their template.
    templates: TemplateCache = field(default_factory=TemplateCache, repr=False)
    #: The API keys (SESRELAY_API_KEY_SHA256's and sesrelay.yaml's), resolved on first use.
    api_keys: list[KeyScope] | None = field(default=None, repr=False)
    _records: RecordBook | None = field(default=None, repr=False)

    @property
    def config(self) -> RelayConfig:
        """The config file (sesrelay.json in the zip, sesrelay.yaml in a checkout), loaded on
        first use."""
        if self._config is None:
            from sesrelay.config.model import load_config

            # A file named in SESRELAY_CONFIG must exist; the default one may be absent (no
            # jobs, no webhook sources).
            named = "config_path" in self.settings.model_fields_set
            path = packaged_config_path(self.settings.config_path)
            self._config = load_config(path, required=named)
        return self._config

    @property
    def state(self) -> StateStore:
        """Opened on first use, so invocations that need no state pay nothing for it."""
        if self._state is None:
            from sesrelay.adapters.state_url import open_state_store

            self._state = open_state_store(default_state_url(self.settings), self.clock)
        return self._state

    @property
    def records(self) -> RecordBook:
        """Send records and delivery events, in the state store (opened on first use)."""
        if self._records is None:
            from sesrelay.records import RecordBook

            retention = self.settings.record_retention_days
            self._records = RecordBook(self.state, self.clock, retention)
        return self._records


def default_state_url(settings: Settings) -> str:
    if settings.state_url:
        return settings.state_url
    # Locally, SQLite survives restarts and is shared by processes. On SCF /tmp is per
    # instance: a fleet needs SESRELAY_STATE_URL=redis://... (TencentDB for Redis).
    if settings.on_scf:
        return "sqlite:////tmp/sesrelay-state.sqlite3"  # the only writable folder on SCF
    return "sqlite:///.sesrelay/state.sqlite3"


def build_ses_gateway(settings: Settings, clock: Clock) -> SesGateway:
    if not (settings.secret_id and settings.secret_key):
        return UnconfiguredGateway()
    from sesrelay.adapters.ses_sdk import SdkSesGateway

    endpoint = settings.ses_endpoint or settings.ses_host()
    return SdkSesGateway(
        secret_id=settings.secret_id,
        secret_key=settings.secret_key,
        session_token=settings.session_token,
        region=settings.ses_region,
        endpoint=endpoint,
        clock=clock,
        timeout=settings.ses_timeout,
        max_attempts=settings.ses_max_attempts,
        before_attempt=build_ses_throttle(settings, clock, endpoint),
    )


def build_ses_throttle(settings: Settings, clock: Clock, endpoint: str) -> SesThrottle | None:
    """SESRELAY_SES_RATE per SES action, shared through the state URL's Redis (if it is one)."""
    if settings.ses_rate <= 0:
        return None
    from sesrelay.adapters.ratelimit_url import open_rate_limiter
    from sesrelay.adapters.ses_sdk import parse_endpoint
    from sesrelay.ratelimit import RateLimit, SesThrottle

    rate = RateLimit(settings.ses_rate)
    limiter = open_rate_limiter(default_state_url(settings), clock, rate)
    return SesThrottle(limiter, scope=parse_endpoint(endpoint)[0], clock=clock)


def build_services(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ses: SesGateway | None = None,
    state: StateStore | None = None,
    config: RelayConfig | None = None,
) -> Services:
    settings = settings if settings is not None else Settings()
    clock = clock or SystemClock()
    return Services(
        settings=settings,
        clock=clock,
        ses=ses if ses is not None else build_ses_gateway(settings, clock),
        _state=state,
        _config=config,
    )
