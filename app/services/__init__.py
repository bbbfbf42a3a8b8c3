"""The one write path: every action of the API, the UI and the CLI goes through these services."""
