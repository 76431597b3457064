"""Shared plumbing below the rules: clock, idempotency, audit, alerts, the notification outbox, exports,
pagination and masking. Models, auth, scope and services may import it; it imports none of them
(`clock` is the floor that models build on; the row writers sit on the models)."""
