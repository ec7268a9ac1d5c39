"""Where the CLI's sending commands find SES when nothing is configured: a local emulator.

Standard library only at import, so `sesrelay --help` stays fast.
"""

from __future__ import annotations

import os
import sys

#: Where `sesrelay emulator` listens by default, and where `sesrelay invoke` and
#: `sesrelay campaign send` look for it when no Tencent credentials and no
#: SESRELAY_SES_ENDPOINT are set.
EMULATOR_DEFAULT_PORT = 8025


def default_to_local_emulator() -> None:
    """Without credentials or an endpoint, point the relay at a local `sesrelay emulator`.

    Sets SESRELAY_SES_ENDPOINT and the emulator's credentials in this process's environment
    and says so on stderr; does nothing when either credentials or an endpoint are set.
    """
    env = os.environ
    has_creds = env.get("TENCENTCLOUD_SECRETID") or env.get("TENCENTCLOUD_SECRET_ID")
    if has_creds or env.get("SESRELAY_SES_ENDPOINT"):
        return
    from sesrelay.emulator import DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY

    env["SESRELAY_SES_ENDPOINT"] = f"http://127.0.0.1:{EMULATOR_DEFAULT_PORT}"
    env["TENCENTCLOUD_SECRET_ID"] = DEFAULT_SECRET_ID
    env["TENCENTCLOUD_SECRET_KEY"] = DEFAULT_SECRET_KEY
    print(
        f"sesrelay: no Tencent credentials set; using the local emulator at "
        f"http://127.0.0.1:{EMULATOR_DEFAULT_PORT} (start it with `sesrelay emulator`)",
        file=sys.stderr,
    )
