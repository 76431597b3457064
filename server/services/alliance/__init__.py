"""Alliance: the property alliance across companies (mutual aid, supplies, statistics, rankings)."""
