"""Health: temperature readings, home-quarantine orders, exposure look-ups, welfare checks."""
