"""The HTTP API: routes, auth and dependencies; the logic lives in ``governance``."""
