"""The HTTP plumbing both doors stand on: request ids and their log line, security headers,
read-your-writes positions and the failed-login throttle (ASGI middleware the composition
root wraps around the app)."""
