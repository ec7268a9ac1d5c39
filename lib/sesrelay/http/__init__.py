"""The HTTP API: router, problems, auth, OpenAPI; the route modules live in `routes/`."""
