"""People: accounts, sign-in, households and residents, consent, retention of personal data."""
