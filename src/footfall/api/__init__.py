"""API dialects: thin adapters at the edge, each shaping its own requests, responses and errors."""
