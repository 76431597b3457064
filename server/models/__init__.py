"""Every model module is imported here so the metadata (and Alembic) sees all tables."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
