"""The job engine: scheduler, asyncio worker pool, retries, deadlines and crash recovery."""
