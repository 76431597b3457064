"""flask-smorest blueprints, thin: parse with a schema, check the role, call a service, dump.

Every module here that defines `blp` (flask-smorest) or `bp` (plain Flask) is registered.
"""
