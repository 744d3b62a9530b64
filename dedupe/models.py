"""Models of the dedupe app."""
