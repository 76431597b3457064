"""District statistics: the export format argument (the answers are built by the service, aggregates only)."""

from marshmallow import Schema, fields, validate

EXPORT_FORMATS = ("csv", "xlsx", "chart")


class ExportArgs(Schema):
    """?format=csv (default), xlsx or chart (JSON of labels and series)."""

    format = fields.String(load_default="csv", validate=validate.OneOf(EXPORT_FORMATS))
