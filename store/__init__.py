"""PostgreSQL + pgvector through psycopg 3: migrations and repositories; the only place with SQL."""
