"""Page-numbered lists: ?page=&page_size= (capped at 100), with the total in the body and X-Total-Count.

A paged view is written once: `@paged(blp, ItemSchema)` documents the page and answers X-Total-Count,
and the view returns `paginate(query, args)` (or a `page_body` it built itself)::

    @blp.arguments(PageArgs, location="query")
    @paged(blp, GateSchema)
    def list_gates(args, compound_id):
        return paginate(select(Gate).where(...).order_by(Gate.id), args)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, wraps
from typing import Any

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


def page_numbers(args: dict) -> tuple[int, int]:
    """The page asked for and its size (defaults 1 and 20)."""
    return args.get("page", 1), args.get("page_size", 20)


def count_rows(query: Select) -> int:
    """How many rows a select returns in all (its order dropped)."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))


def page_window(query: Select, args: dict) -> Select:
    """The select limited to the page asked for."""
    page, size = page_numbers(args)
    return query.limit(size).offset((page - 1) * size)


def page_body(items: list, total: int, args: dict) -> dict:
    """The body of a page: items, total, page, page_size."""
    page, size = page_numbers(args)
    return {"items": items, "total": total, "page": page, "page_size": size}


def paginate(query: Select, args: dict, *, each: Callable[[Any], Any] | None = None, rows: bool = False) -> dict:
    """Run one page of a select and count the whole; returns the page body.

    Items are the first entity of each row, or whole rows with ``rows=True``; ``each`` shapes an item.
    """
    total = count_rows(query)
    window = page_window(query, args)
    items = db.session.execute(window).all() if rows else db.session.scalars(window).all()
    if each is not None:
        items = [each(item) for item in items]
    return page_body(items, total, args)


def total_header(body: dict) -> dict:
    """The X-Total-Count header for a page body."""
    return {"X-Total-Count": str(body["total"])}


def paged(blp, item_schema: type[Schema]) -> Callable:
    """Decorator of a paged list view: its 200 is documented as a page of ``item_schema``, and the page
    body the view returns is answered with X-Total-Count."""
    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def answer(*args, **kwargs):
            body = view(*args, **kwargs)
            return body, 200, total_header(body)
        return blp.response(200, page_of(item_schema))(answer)
    return decorate
