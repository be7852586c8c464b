"""Keras models compiled from `.net` specs, wrapped as scikit-learn estimators (not yet built)."""
