"""Integrations with other engines, each in an optional extra: Dask, an HTTP service."""
