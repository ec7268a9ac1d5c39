"""`python -m sesrelay ...` is the same as the `sesrelay` console script."""

from sesrelay.cli.main import main

raise SystemExit(main())
