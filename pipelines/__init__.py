"""Workflows behind the `netdsl` command line. Importing this package must stay cheap: no TensorFlow."""
