"""The capacity units DynamoDB would bill for a request moto served: what the benchmark counts per
operation (`GET /_weelo/requests` of moto_serialized.py, once `POST /_weelo/requests
{"units": true}` turned it on).

The rules are DynamoDB's on-demand ones (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html):
a write costs one write unit per started KB of the item (the larger of before and after for an
update, the stored item for a delete, each item of a batch on its own), twice that in a
transaction; a read costs one read unit per started 4 KB, half for an eventually consistent read,
summed over the items a query returns before rounding, per key for a batch get (a key with no
item bills the minimum, as a GetItem of a missing item does). Item sizes are
moto's own `size()`: the UTF-8 lengths of attribute names and values, numbers by their digits.
What this leaves out, and so undercounts: a query's filtered-out items (billed, never returned),
index writes (a global secondary index bills its own write units), and a transaction's condition
checks are counted as two read units each."""

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


class Units:
    """The write and read units of one request: `before(...)` ahead of moto, `after(...)` once
    it answered."""

    def __init__(self, operation, body, environ):
        self.operation = operation
        self.request = json.loads(body or b"{}")
        self.region = region_of(environ)
        self.before_size = 0

    def before(self):
        if self.operation in ("UpdateItem", "DeleteItem"):
            self.before_size = stored_size(self.region, self.request["TableName"], self.request["Key"])

    def after(self, response_bytes):
        """(write units, read units) of the request, given moto's answer."""
        request, op = self.request, self.operation
        if op == "PutItem":
            return write_units(item_size(request.get("Item"))), 0
        if op == "UpdateItem":
            after = stored_size(self.region, request["TableName"], request["Key"])
            return write_units(max(self.before_size, after)), 0
        if op == "DeleteItem":
            return write_units(self.before_size), 0
        if op == "BatchWriteItem":
            return self._batch_write(), 0
        if op == "TransactWriteItems":
            return self._transaction()
        consistent = bool(request.get("ConsistentRead"))
        answer = json.loads(b"".join(response_bytes) or b"{}")
        if op == "GetItem":
            return 0, read_units(item_size(answer.get("Item")), consistent)
        if op in ("Query", "Scan"):
            return 0, read_units(sum(item_size(i) for i in answer.get("Items", [])), consistent)
        if op == "BatchGetItem":
            # Each key is read as a GetItem would be: a key with no item still bills the minimum.
            items = [i for table in answer.get("Responses", {}).values() for i in table]
            specs = request.get("RequestItems", {}).values()
            consistent = any(spec.get("ConsistentRead") for spec in specs)
            keys = sum(len(spec.get("Keys", [])) for spec in specs)
            found = sum(read_units(item_size(i), consistent) for i in items)
            return 0, found + max(0, keys - len(items)) * read_units(0, consistent)
        return 0, 0

    def _batch_write(self):
        units = 0
        for table, writes in self.request.get("RequestItems", {}).items():
            for write in writes:
                if "PutRequest" in write:
                    units += write_units(item_size(write["PutRequest"]["Item"]))
                elif "DeleteRequest" in write:
                    # Deleted by now: a delete bills at least one unit; a GPS index entry is < 1 KB.
                    units += 1
        return units

    def _transaction(self):
        writes, reads = 0, 0
        for action in self.request.get("TransactItems", []):
            if "Put" in action:
                writes += 2 * write_units(item_size(action["Put"]["Item"]))
            elif "Update" in action or "Delete" in action:
                spec = action.get("Update") or action.get("Delete")
                writes += 2 * write_units(stored_size(self.region, spec["TableName"], spec["Key"]))
            elif "ConditionCheck" in action:
                reads += 2
        return writes, reads
