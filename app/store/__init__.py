"""Persistence: the database, its migrations, queries, and the batched single writer."""
