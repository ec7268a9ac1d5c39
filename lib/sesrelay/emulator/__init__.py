"""A local Tencent Cloud SES (API 2020-10-02) that the official SDK talks to over loopback HTTP.

Default credentials: SecretId `AKIDsesrelayEMULATOR0000000000000000`, SecretKey
`sesrelay-emulator-secret-key-0000`; any X-TC-Token passes (STS tokens can't be checked locally).
"""

from sesrelay.emulator.server import (
    DEFAULT_SECRET_ID,
    DEFAULT_SECRET_KEY,
    EmulatorServer,
    serve_forever,
)
from sesrelay.emulator.ses.seed import SeedError, load_seed

__all__ = [
    "DEFAULT_SECRET_ID",
    "DEFAULT_SECRET_KEY",
    "EmulatorServer",
    "SeedError",
    "load_seed",
    "serve_forever",
]
