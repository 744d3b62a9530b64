"""Models of the commerce app."""
