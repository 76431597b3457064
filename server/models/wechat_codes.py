"""Mini-program codes (小程序码) fetched from WeChat, cached in the database so every host shares them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base
from server.plumbing.clock import utcnow


class MiniProgramCode(Base):
    """The image WeChat's getwxacodeunlimit answered for one app, scene, page and width (it never changes)."""

    __tablename__ = "miniprogram_codes"
    __table_args__ = (UniqueConstraint("app_id", "scene", "page", "width"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[str] = mapped_column(String(64))
    scene: Mapped[str] = mapped_column(String(32), index=True)
    page: Mapped[str] = mapped_column(String(128), default="")
    width: Mapped[int] = mapped_column(Integer)
    image: Mapped[bytes] = mapped_column(LargeBinary)
    mimetype: Mapped[str] = mapped_column(String(32))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
