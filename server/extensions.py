"""The extension objects, created once and bound to the app in create_app()."""

from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy

from server.errors import ErrorSchema
from server.models.base import Base
from server.rate_limits import limiter  # noqa: F401 (bound in create_app with the others)

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
api = Api()
api.ERROR_SCHEMA = ErrorSchema  # every documented error answer is the shape server.errors builds


def transaction_begun() -> bool:
    """Whether this request's (this scope's) session has begun a transaction; creates no session to find out.

    The hot paths read and write outside the session while it has begun nothing, and a request that never
    used it has nothing to commit.
    """
    return db.session.registry.has() and db.session().in_transaction()
