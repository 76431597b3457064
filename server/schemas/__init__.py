"""marshmallow schemas, one module per resource; role-specific views of the same resource."""
