"""Adapters: the only modules that talk to the outside world (SES SDK, Redis, SQLite)."""
