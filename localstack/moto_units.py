"""The capacity units DynamoDB would bill for a request moto served, per table: what the benchmark
counts per operation and table (`GET /_weelo/requests` of moto_serialized.py, once `POST /_weelo/requests
{"units": true}` turned it on).

The rules are DynamoDB's on-demand ones (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
a write costs one write unit per started KB of the item (the larger of before and after for an
update, the stored item for a delete, each item of a batch on its own), twice that in a
transaction; a read costs one read unit per started 4 KB, half for an eventually consistent read,
summed over the items a query returns before rounding, per key for a batch get (a key with no
item bills the minimum, as a GetItem of a missing item does). Item sizes are
moto's own `size()`: the UTF-8 lengths of attribute names and values, numbers by their digits.
A write also bills each global secondary index it changes
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html, "Provisioned throughput
considerations"): one write unit per started KB of the index entry (its projected attributes and
keys, plus the 100 bytes of overhead the page counts for an entry's storage: an upper bound) when
an item enters or leaves the index or changes what it projects, two when it changes the index's
key (the old entry deleted, the new one put), none when it touches nothing the index holds. What this leaves out, and so undercounts: a query's filtered-out items (billed, never
returned), and a transaction's index writes are counted once, not twice; a transaction's
condition checks are counted as two read units each."""

import json
import math

from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import bytesize

KB = 1024
READ_BLOCK = 4 * KB


def item_size(item):
    """Size of an item in the wire form ({"name": {"S": "..."}}), as DynamoDB counts it."""
    return sum(bytesize(name) + DynamoType(value).size() for name, value in (item or {}).items())


def write_units(size):
    return max(1, math.ceil(size / KB))


def read_units(size, consistent):
    units = max(1, math.ceil(size / READ_BLOCK))
    return units if consistent else units / 2


def region_of(environ):
    """The region of the request's SigV4 credential scope."""
    authorization = environ.get("HTTP_AUTHORIZATION", "")
    scope = authorization.partition("Credential=")[2].split(",")[0].split("/")
    return scope[2] if len(scope) > 2 else "us-east-1"


def stored_size(region, table, key):
    """Size of the item stored under `key` in `table` (0 when there is none)."""
    try:
        item = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_item(table, key)
    except Exception:  # an unknown table: the request fails in moto and bills nothing
        return 0
    return item.size() if item else 0


INDEX_ENTRY_OVERHEAD = 100


def table_of(region, name):
    """moto's table called `name` (None when there is none: moto refuses the request)."""
    try:
        return dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(name)
    except Exception:
        return None


def stored_item(region, table, key):
    """The item stored under `key` in `table`, in the wire form (None when there is none)."""
    try:
        item = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_item(table, key)
    except Exception:
        return None
    return item.to_json()["Attributes"] if item else None


def key_of(table, item):
    """The table key of `item` (a PutItem's or a batch's put)."""
    names = [n for n in (table.hash_key_attr, table.range_key_attr) if n]
    return {n: item[n] for n in names if n in item}


def index_entry(index, table, item):
    """What `index` holds of `item`: None when the item lacks one of the index's keys (a sparse
    index leaves it out), else its projected attributes and both tables' keys."""
    keys = index.schema_key_attrs
    if item is None or any(k not in item for k in keys):
        return None
    projection = index.projection or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return dict(item)
    names = set(keys) | {n for n in (table.hash_key_attr, table.range_key_attr) if n}
    if kind == "INCLUDE":
        names |= set(projection.get("NonKeyAttributes", []))
    return {n: v for n, v in item.items() if n in names}


def index_write_units(table, before, after):
    """The write units a change of one item from `before` to `after` bills on `table`'s global
    secondary indexes."""
    units = 0
    for index in table.global_indexes:
        old, new = index_entry(index, table, before), index_entry(index, table, after)
        size = lambda entry: write_units(item_size(entry) + INDEX_ENTRY_OVERHEAD)  # noqa: E731
        if old is None and new is None:
            continue
        if old is None or new is None:
            units += size(old if new is None else new)
        elif any(before.get(k) != after.get(k) for k in index.schema_key_attrs):
            units += size(old) + size(new)
        elif old != new:
            units += max(size(old), size(new))
    return units


class Units:
    """The write and read units of one request: `before(...)` ahead of moto, `after(...)` once
    it answered."""

    def __init__(self, operation, body, environ):
        self.operation = operation
        self.request = json.loads(body or b"{}")
        self.region = region_of(environ)
        self.before_size = 0
        # (table name, key, the item before) of every item the request writes.
        self.touched = []

    def before(self):
        if self.operation in ("UpdateItem", "DeleteItem"):
            self.before_size = stored_size(self.region, self.request.get("TableName"), self.request.get("Key"))
        self.touched = [(name, key, stored_item(self.region, name, key)) for name, key in self._written_keys()]

    def after(self, response_bytes):
        """(write units, read units) of the request, given moto's answer: its tables' and their
        indexes' writes."""
        by_table = self.after_by_table(response_bytes)
        return sum(w for w, _ in by_table.values()), sum(r for _, r in by_table.values())

    def after_by_table(self, response_bytes):
        """{table name: [write units, read units]} of the request, given moto's answer: what each
        table it touched bills, its indexes' writes included."""
        units = self._table_units(response_bytes)
        for name, writes in self._index_writes().items():
            units.setdefault(name, [0, 0])[0] += writes
        return units

    def _written_keys(self):
        """(table name, key) of every item the request writes (none of a table that does not exist,
        nor of a malformed request: moto refuses both)."""
        request, op = self.request, self.operation
        put = lambda name, item: (name, key_of(table_of(self.region, name), item))  # noqa: E731
        if op == "PutItem" and table_of(self.region, request.get("TableName")):
            return [put(request["TableName"], request.get("Item", {}))]
        if op in ("UpdateItem", "DeleteItem") and request.get("TableName") and request.get("Key"):
            return [(request["TableName"], request["Key"])]
        keys = []
        if op == "BatchWriteItem":
            for name, writes in request.get("RequestItems", {}).items():
                if table_of(self.region, name) is None:
                    continue
                for write in writes:
                    if "PutRequest" in write:
                        keys.append(put(name, write["PutRequest"]["Item"]))
                    elif "DeleteRequest" in write:
                        keys.append((name, write["DeleteRequest"]["Key"]))
        if op == "TransactWriteItems":
            for action in request.get("TransactItems", []):
                if "Put" in action and table_of(self.region, action["Put"].get("TableName")):
                    keys.append(put(action["Put"]["TableName"], action["Put"].get("Item", {})))
                spec = action.get("Update") or action.get("Delete")
                if spec and spec.get("TableName") and spec.get("Key"):
                    keys.append((spec["TableName"], spec["Key"]))
        return keys

    def _index_writes(self):
        """{table name: the write units of its indexes}."""
        units = {}
        for name, key, before in self.touched:
            table = table_of(self.region, name)
            if table is not None and table.global_indexes:
                after = stored_item(self.region, name, key)
                units[name] = units.get(name, 0) + index_write_units(table, before, after)
        return units

    def _table_units(self, response_bytes):
        """{table name: [write units, read units]} of the tables themselves."""
        request, op = self.request, self.operation
        name = request.get("TableName")
        if op == "PutItem":
            return {name: [write_units(item_size(request.get("Item"))), 0]}
        if op == "UpdateItem":
            after = stored_size(self.region, name, request["Key"])
            return {name: [write_units(max(self.before_size, after)), 0]}
        if op == "DeleteItem":
            return {name: [write_units(self.before_size), 0]}
        if op == "BatchWriteItem":
            return self._batch_write()
        if op == "TransactWriteItems":
            return self._transaction()
        consistent = bool(request.get("ConsistentRead"))
        answer = json.loads(b"".join(response_bytes) or b"{}")
        if op == "GetItem":
            return {name: [0, read_units(item_size(answer.get("Item")), consistent)]}
        if op in ("Query", "Scan"):
            return {name: [0, read_units(sum(item_size(i) for i in answer.get("Items", [])), consistent)]}
        if op == "BatchGetItem":
            # Each key is read as a GetItem would be: a key with no item still bills the minimum.
            units = {}
            for table, spec in request.get("RequestItems", {}).items():
                items = answer.get("Responses", {}).get(table, [])
                consistent = bool(spec.get("ConsistentRead"))
                found = sum(read_units(item_size(i), consistent) for i in items)
                missing = max(0, len(spec.get("Keys", [])) - len(items))
                units[table] = [0, found + missing * read_units(0, consistent)]
            return units
        return {}

    def _batch_write(self):
        units = {}
        for table, writes in self.request.get("RequestItems", {}).items():
            for write in writes:
                if "PutRequest" in write:
                    billed = write_units(item_size(write["PutRequest"]["Item"]))
                elif "DeleteRequest" in write:
                    # Deleted by now: a delete bills at least one unit; a GPS index entry is < 1 KB.
                    billed = 1
                else:
                    continue
                units.setdefault(table, [0, 0])[0] += billed
        return units

    def _transaction(self):
        units = {}
        for action in self.request.get("TransactItems", []):
            spec = next(iter(action.values()), {})
            table = units.setdefault(spec.get("TableName"), [0, 0])
            if "Put" in action:
                table[0] += 2 * write_units(item_size(action["Put"]["Item"]))
            elif "Update" in action or "Delete" in action:
                table[0] += 2 * write_units(stored_size(self.region, spec["TableName"], spec["Key"]))
            elif "ConditionCheck" in action:
                table[1] += 2
        return units
