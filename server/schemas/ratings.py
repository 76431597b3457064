"""Satisfaction ratings, their comments (authors masked) and the rankings of companies."""

from marshmallow import Schema, fields, validate

from server.schemas.fields import text
from server.schemas.statistics import EXPORT_FORMATS


class RateServiceSchema(Schema):
    """A resident's rating of the property service this period: 1 to 5 and an optional comment."""

    score = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    comment = text(500)


class RatingSchema(Schema):
    """A stored rating, as its author sees it."""

    id = fields.Integer()
    compound_id = fields.Integer()
    kind = fields.String()
    period = fields.String()
    score = fields.Integer()
    comment = fields.String()
    created_at = fields.AwareDateTime()


class PeriodArgs(Schema):
    """?period=2026-12 (or 2026-Q4 when periods are quarters); the current period by default."""

    period = fields.String(validate=validate.Length(max=8))


class PeriodExportArgs(PeriodArgs):
    """A period and an export format."""

    format = fields.String(load_default="csv", validate=validate.OneOf(EXPORT_FORMATS))


class CommentSchema(Schema):
    """A rating's comment, its author masked (张*)."""

    id = fields.Integer()
    period = fields.String()
    kind = fields.String()
    score = fields.Integer()
    comment = fields.String()
    compound_id = fields.Integer()
    compound_name = fields.String()
    company_id = fields.Integer(allow_none=True)
    author = fields.String()
    created_at = fields.AwareDateTime()


class UnrankedCompanySchema(Schema):
    """A company's figures in a period, too few ratings to be ranked."""

    company_id = fields.Integer()
    name = fields.String()
    average = fields.Float(allow_none=True)
    ratings = fields.Integer()
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer())


class RankedCompanySchema(UnrankedCompanySchema):
    """A ranked company's figures in a period (equal averages share a rank)."""

    rank = fields.Integer()


class RankingSchema(Schema):
    """Companies ranked by average score; those with fewer than min_ratings listed apart."""

    period = fields.String()
    min_ratings = fields.Integer()
    ranked = fields.List(fields.Nested(RankedCompanySchema))
    unranked = fields.List(fields.Nested(UnrankedCompanySchema))
