"""Pure-Python services of the core addon: HTTP client base, rate limiting, provider value objects."""
