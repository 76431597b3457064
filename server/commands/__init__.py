"""`flask wuye` commands by domain: each module defines `register(group)`; all are added in name order."""
