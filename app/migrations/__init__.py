"""Alembic migrations: the schema of every bulkdash database, applied at start-up."""
