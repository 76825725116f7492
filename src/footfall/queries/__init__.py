"""Read models over the store, shared by every API dialect and the dashboard."""
