"""Columnar work over a whole population (Polars here; Spark for when one machine is not enough)."""
