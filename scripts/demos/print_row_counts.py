"""Print the row count of every table in a DuckDB warehouse.

python print_row_counts.py FILE [SCHEMA...]: every table, or only those of the given schemas
(target-duckdb loads each extractor into its own schema: connectwise, exactonline, ...).
"""

from __future__ import annotations

import sys

import duckdb


def row_counts(path: str, schemas: list[str] | None = None) -> list[tuple[str, str, int]]:
    with duckdb.connect(path, read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        return [
            (schema, table, con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0])
            for schema, table in tables
            if not schemas or schema in schemas
        ]


def main() -> None:
    counts = row_counts(sys.argv[1], sys.argv[2:])
    width = max((len(f"{s}.{t}") for s, t, _ in counts), default=10)
    for schema, table, count in counts:
        print(f"{schema}.{table:<{width - len(schema) - 1}}  {count:>9,}")
    print(f"{len(counts)} tables, {sum(c for *_, c in counts):,} rows")


if __name__ == "__main__":
    main()
