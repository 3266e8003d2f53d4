"""Apply Alembic migrations to the database named by a URL."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "heads") -> None:
    """Bring the database to `revision` (default: every head, as areas branch off the first revision); idempotent."""
    logger.info("migrating database to %s", revision)
    command.upgrade(alembic_config(database_url), revision)
