"""The API function's objects (being rebuilt on branch h-api)."""
