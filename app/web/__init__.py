"""The one web process: NiceGUI pages, the REST API, the WebSocket and the workers on one port."""
