"""Follow-up: recommendations, management responses, key actions and their implementation."""
