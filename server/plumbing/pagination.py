"""Page-numbered lists: ?page=&page_size= (capped at 100), with the total in the body and X-Total-Count."""

from __future__ import annotations

from functools import cache

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select

from server.extensions import db

MAX_PAGE_SIZE = 100


class PageArgs(Schema):
    """Query arguments of every paged list."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


@cache
def page_of(item_schema: type[Schema]) -> type[Schema]:
    """The response schema of a page of items."""
    return type(f"{item_schema.__name__.removesuffix('Schema')}PageSchema", (Schema,), {
        "items": fields.List(fields.Nested(item_schema)),
        "total": fields.Integer(),
        "page": fields.Integer(),
        "page_size": fields.Integer(),
    })


def paginate(query: Select, args: dict) -> dict:
    """Run one page of a select and count the whole; returns the page body."""
    page, size = args.get("page", 1), args.get("page_size", 20)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = db.session.scalars(query.limit(size).offset((page - 1) * size)).all()
    return {"items": items, "total": total, "page": page, "page_size": size}


def total_header(body: dict) -> dict:
    """The X-Total-Count header for a page body."""
    return {"X-Total-Count": str(body["total"])}
