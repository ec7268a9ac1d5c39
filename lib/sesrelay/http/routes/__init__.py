"""Route tables, one module per area; `http.app` joins them once."""
