"""Alembic's entry point: run the revisions on the connection tui_bot.store.migrate hands over (never from a URL)."""

from __future__ import annotations

from alembic import context

from tui_bot.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
