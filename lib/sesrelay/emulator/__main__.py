"""`python -m sesrelay.emulator [--host H] [--port P] [--seed FILE] [--rate-limit N]
[--callback-url URL]`."""

from __future__ import annotations

import argparse

from sesrelay.emulator import serve_forever
from sesrelay.emulator.callbacks import check_callback_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sesrelay.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", default=None, help="seed JSON file (default: the built-in one)")
    parser.add_argument("--rate-limit", type=int, default=20, help="requests/s per action; 0 = off")
    parser.add_argument("--callback-url", default=None, help="post SES delivery events here")
    args = parser.parse_args(argv)
    try:
        check_callback_url(args.callback_url)
    except ValueError as exc:
        parser.error(f"--callback-url: {exc}")
    serve_forever(
        args.host,
        args.port,
        seed_path=args.seed,
        rate_limit=args.rate_limit or None,
        callback_url=args.callback_url,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
