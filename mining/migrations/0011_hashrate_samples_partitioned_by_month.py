"""The two hashrate sample tables become partitioned tables (issue 22): by interval, then by UTC month.

No model changes: Django's state is the same, only the storage moves (mining/services/partitions.py has the layout).
Each table is rebuilt under a new parent with the same columns, every row is copied (PostgreSQL routes each to its
month; points older than the kept months go to the interval's default partition, which retention trims), the old
table is dropped, and the primary key, the unique constraints, the foreign keys and the indexes come back under
their own names. The primary key becomes (id, interval, at), since a partitioned table's unique keys must contain
its partition keys; the natural keys (account|worker, interval, at) already do, so `ON CONFLICT` works as before.
The id sequence is a plain sequence owned by the column (PostgreSQL 15 has no identity on partitioned tables).

Reversible: the reverse copies the rows back into one plain table.
"""

from django.db import migrations
from django.utils import timezone

TABLES = ("mining_accounthashratesample", "mining_workerhashratesample")
RANGED = ("5m", "1h")


def _saved_definitions(cursor, table: str) -> tuple[list, list]:
    """(unique and foreign-key constraints, other indexes) of `table`, as (name, definition) pairs."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname", [table],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) ORDER BY indexname",
        [table, table],
    )
    return constraints, cursor.fetchall()


def _restore(cursor, table: str, pk: str, constraints: list, indexes: list) -> None:
    cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_pkey" PRIMARY KEY ({pk})')
    for name, definition in constraints:
        cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    for _name, definition in indexes:
        cursor.execute(definition)


def _own_sequence(cursor, table: str) -> None:
    seq = f"{table}_id_seq"
    cursor.execute(f'CREATE SEQUENCE IF NOT EXISTS "{seq}"')
    cursor.execute(f'ALTER SEQUENCE "{seq}" OWNED BY "{table}"."id"')
    cursor.execute(f"""ALTER TABLE "{table}" ALTER COLUMN "id" SET DEFAULT nextval('"{seq}"')""")
    cursor.execute(f"""SELECT setval('"{seq}"', COALESCE(MAX("id"), 0) + 1, false) FROM "{table}" """)  # noqa: S608


def partition(apps, schema_editor) -> None:
    from mining.services.partitions import month_partition_create, months_wanted

    now = timezone.now()
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            new = f"{table}_partitioned"
            constraints, indexes = _saved_definitions(cursor, table)
            cursor.execute(f'CREATE TABLE "{new}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
                           f'PARTITION BY LIST ("interval")')
            for interval in RANGED:
                cursor.execute(f'CREATE TABLE "{table}_{interval}" PARTITION OF "{new}" FOR VALUES IN (%s) '
                               f'PARTITION BY RANGE ("at")', [interval])
                cursor.execute(f'CREATE TABLE "{table}_{interval}_default" PARTITION OF "{table}_{interval}" DEFAULT')
                for start in months_wanted(table, interval, now):
                    month_partition_create(table, interval, start)
            cursor.execute(f'''CREATE TABLE "{table}_24h" PARTITION OF "{new}" FOR VALUES IN ('24h')''')
            cursor.execute(f'INSERT INTO "{new}" SELECT * FROM "{table}"')  # noqa: S608
            cursor.execute(f'DROP TABLE "{table}"')
            cursor.execute(f'ALTER TABLE "{new}" RENAME TO "{table}"')
            _own_sequence(cursor, table)
            _restore(cursor, table, '"id", "interval", "at"', constraints, indexes)
            cursor.execute(f'ANALYZE "{table}"')


def unpartition(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            plain = f"{table}_plain"
            constraints, indexes = _saved_definitions(cursor, table)
            cursor.execute(f'ALTER SEQUENCE "{table}_id_seq" OWNED BY NONE')
            cursor.execute(f'CREATE TABLE "{plain}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS)')
            cursor.execute(f'INSERT INTO "{plain}" SELECT * FROM "{table}"')  # noqa: S608
            cursor.execute(f'DROP TABLE "{table}" CASCADE')
            cursor.execute(f'ALTER TABLE "{plain}" RENAME TO "{table}"')
            _own_sequence(cursor, table)
            _restore(cursor, table, '"id"', constraints, indexes)


class Migration(migrations.Migration):

    dependencies = [
        ("mining", "0010_payout_change_held"),
    ]

    operations = [
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
