"""Integrations with other engines, each in an optional extra: Dask, Spark, an HTTP service."""
