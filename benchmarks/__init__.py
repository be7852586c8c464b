"""Training-speed benchmarks of netdsl against scikeras, keras.wrappers and scikit-learn (see README.md)."""
