"""Batch assessment: whole files assessed as one compiled SQL query (DuckDB, PostgreSQL, Spark SQL).

Heavy imports (duckdb, pyarrow, engines) happen inside the functions, so importing this package is cheap.
"""
