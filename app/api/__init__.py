"""The REST API (``/api/v1``), the external WebSocket ``/ws`` and ``/metrics``."""
