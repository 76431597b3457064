"""Roster: guard shifts, clock-in, swaps, leave, lending across companies, and the auto-fill solver."""
