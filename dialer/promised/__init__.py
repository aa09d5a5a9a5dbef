"""Promised callbacks (首问负责制): callback requests dialled back into the right queue."""
