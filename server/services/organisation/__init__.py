"""Organisation: companies, compounds and their gates, and the alerts raised in them."""
