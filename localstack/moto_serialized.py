"""Runs moto's server with every request handled one at a time, and base-table queries that read
only their partition.

moto's in-memory backends are not thread-safe: two concurrent conditional writes (the accept race)
could both pass their condition. DynamoDB itself guarantees that exactly one wins, so the emulator
must too. A lock around each request gives moto the atomicity the real service has; connections are
still accepted concurrently, so clients see ordinary keep-alive behaviour.

moto's `Table.query` on a table's own key builds and sorts a list of *every* item in the table, then
keeps those with the queried partition key: each query costs O(n log n) in the table's size, which
made the location-history and geo-cell tables slower with every test run. DynamoDB reads one
partition. `query_one_partition` hands moto's own query code just that partition; it still filters by
key and sorts by range key itself, so the results are the same. Queries on indexes are untouched.

moto's `transact_write_items` deep-copies every table a transaction touches, to roll back if it is
cancelled: each booking (a three-item transaction) cost O(size of the bookings, outbox and
idempotency tables), so it slowed with every booking ever made. `transact_write_items_with_item_undo`
keeps a copy of just the items the transaction names and puts those back on a cancellation; moto's
own transaction code does everything else, unchanged.

Fault injection, for the fault suite: `POST /_weelo/faults {"operation": "UpdateItem", "count": 6,
"error": "ProvisionedThroughputExceededException"}` makes the next `count` requests for that
operation (the X-Amz-Target suffix) fail with that error, as a throttled table would;
`GET /_weelo/faults` tells how many are left and how many were served; `DELETE` clears them.

Write journal, for the authorization tests' "and nothing was written" checks: every write request
(PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) is numbered and its body kept
(the last 50,000). `GET /_weelo/writes?after=N&containing=TEXT` answers `{"last": <newest number>,
"matches": [{"seq": .., "operation": ..}]}` for the writes after N whose body contains TEXT.

Request counts, for the benchmark's per-operation figures: `GET /_weelo/requests` answers
`{"<operation>": {"count": .., "seconds": .., "bytes": .., "writeUnits": .., "readUnits": ..}}`
since the server started (or the last `DELETE`): how many requests of each operation (the
X-Amz-Target suffix; for the query-protocol services, SNS and SQS, their `Action`; else the HTTP
method and the path's first segment), the time moto spent on them inside the lock, their request
bodies' bytes, and the DynamoDB capacity units they would bill, in all and per table (`tables`;
moto_units.py; counted only after `POST /_weelo/requests {"units": true}`, as it reads every
request and answer)."""

import argparse
import collections
import copy
import io
import json
import threading
import time
import urllib.parse

import moto.dynamodb.models as dynamodb_models
import moto_units
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import run_simple

_queried_partition = threading.local()
_moto_all_items = Table.all_items
_moto_query = Table.query
# Position of `index_name` in Table.query's signature after `self` and `hash_key`.
_INDEX_NAME_ARG = 6


def all_items_of_queried_partition(self):
    hash_key = getattr(_queried_partition, "hash_key", None)
    if hash_key is None:
        return _moto_all_items(self)
    partition = self.items.get(hash_key)
    if partition is None:
        return []
    return list(partition.values()) if self.range_key_attr else [partition]


def query_one_partition(self, hash_key, *args, **kwargs):
    index_name = args[_INDEX_NAME_ARG] if len(args) > _INDEX_NAME_ARG else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _moto_query(self, hash_key, *args, **kwargs)
    _queried_partition.hash_key = hash_key
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        _queried_partition.hash_key = None


Table.all_items = all_items_of_queried_partition
Table.query = query_one_partition


class _CopyWithoutTables:
    """The `copy` module as moto's DynamoDB backend sees it, except that a whole table is not copied:
    transact_write_items_with_item_undo keeps the items it needs instead."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


_moto_transact_write_items = DynamoDBBackend.transact_write_items


def _named_item(backend, operation):
    """(table, hash key, range key) of the item one transaction operation names, if it is well formed."""
    table = backend.tables.get(operation.get("TableName"))
    if table is None:
        return None
    key = operation.get("Key") or operation.get("Item")
    if not key or table.hash_key_attr not in key:
        return None
    range_key = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in key:
            return None
        range_key = DynamoType(key[table.range_key_attr])
    return table, DynamoType(key[table.hash_key_attr]), range_key


def transact_write_items_with_item_undo(self, transact_items):
    undo = []
    for entry in transact_items:
        _, operation = next(iter(entry.items()))
        named = _named_item(self, operation)
        if named is not None:
            table, hash_key, range_key = named
            undo.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    try:
        return _moto_transact_write_items(self, transact_items)
    except Exception:
        for table, hash_key, range_key, before in reversed(undo):
            table.delete_item(hash_key, range_key)
            if before is not None and range_key is not None:
                table.items[hash_key][range_key] = before
            elif before is not None:
                table.items[hash_key] = before
        raise


dynamodb_models.copy = _CopyWithoutTables()
DynamoDBBackend.transact_write_items = transact_write_items_with_item_undo


class Serialized:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        # operation -> [error, remaining, served]
        self.faults = {}
        # (seq, operation, body) of the latest writes
        self.writes = collections.deque(maxlen=50_000)
        self.write_seq = 0
        # operation -> [count, seconds, request bytes, write units, read units]
        self.requests = collections.defaultdict(lambda: [0, 0.0, 0, 0, 0.0])
        # operation -> table -> [write units, read units]
        self.tables = collections.defaultdict(dict)
        self.count_units = False

    def _faults_endpoint(self, environ, start_response):
        method = environ["REQUEST_METHOD"]
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
            self.faults[spec["operation"]] = [spec.get("error", "ProvisionedThroughputExceededException"), int(spec["count"]), 0]
        elif method == "DELETE":
            self.faults.clear()
        body = json.dumps({op: {"error": e, "remaining": r, "served": s} for op, (e, r, s) in self.faults.items()})
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body.encode()]

    _WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}

    def _journal(self, environ):
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if operation not in self._WRITES:
            return
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        # moto reads the body after us
        environ["wsgi.input"] = io.BytesIO(body)
        self.write_seq += 1
        self.writes.append((self.write_seq, operation, body.decode("utf-8", "replace")))

    def _writes_endpoint(self, environ, start_response):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        after = int(query.get("after", ["0"])[0])
        containing = query.get("containing", [""])[0]
        matches = [{"seq": s, "operation": op} for s, op, body in self.writes if s > after and containing in body]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"last": self.write_seq, "matches": matches}).encode()]

    def _requests_endpoint(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "DELETE":
            self.requests.clear()
            self.tables.clear()
        elif environ["REQUEST_METHOD"] == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            self.count_units = bool(json.loads(environ["wsgi.input"].read(length) or b"{}").get("units"))
        body = {
            op: {
                "count": c, "seconds": round(t, 4), "bytes": b, "writeUnits": w, "readUnits": r,
                "tables": {table: {"writeUnits": tw, "readUnits": tr} for table, (tw, tr) in self.tables[op].items()},
            }
            for op, (c, t, b, w, r) in self.requests.items()
        }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]

    @staticmethod
    def _body(environ):
        """The request body, left readable for moto."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)
        return body

    @staticmethod
    def _operation(environ, body):
        target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        if target:
            return target
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action")
            if action:
                return action[0]
        path = environ.get("PATH_INFO", "/").strip("/").split("/")[0]
        return f"{environ['REQUEST_METHOD']} /{path}"

    def _injected(self, environ, start_response):
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
        fault = self.faults.get(operation)
        if not fault or fault[1] <= 0:
            return None
        fault[1] -= 1
        fault[2] += 1
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{fault[0]}", "message": "injected by the fault suite"})
        start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0")])
        return [body.encode()]

    def __call__(self, environ, start_response):
        with self.lock:
            if environ.get("PATH_INFO") == "/_weelo/faults":
                return self._faults_endpoint(environ, start_response)
            if environ.get("PATH_INFO") == "/_weelo/writes":
                return self._writes_endpoint(environ, start_response)
            self._journal(environ)
            injected = self._injected(environ, start_response)
            if injected is not None:
                return injected
            if environ.get("PATH_INFO") == "/_weelo/requests":
                return self._requests_endpoint(environ, start_response)
            body = self._body(environ)
            operation = self._operation(environ, body)
            units = None
            if self.count_units and environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
                units = moto_units.Units(operation, body, environ)
                units.before()
            started = time.perf_counter()
            # Read the whole response inside the lock: WSGI apps may compute it lazily.
            response = list(self.app(environ, start_response))
            counted = self.requests[operation]
            counted[0] += 1
            counted[1] += time.perf_counter() - started
            counted[2] += len(body)
            if units is not None:
                for table, (write, read) in units.after_by_table(response).items():
                    counted[3] += write
                    counted[4] += read
                    table_counted = self.tables[operation].setdefault(str(table), [0, 0])
                    table_counted[0] += write
                    table_counted[1] += read
            return response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, Serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
