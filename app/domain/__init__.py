"""The domain: states, transitions, tables and the public shapes. Imports nothing else of bulkdash."""
