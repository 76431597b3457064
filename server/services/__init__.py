"""The rules. Services change state and flush; the request commits once at its end."""
