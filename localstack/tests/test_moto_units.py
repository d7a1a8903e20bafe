"""The units moto_units.py bills for a request, index writes included: each test makes a request
against moto in this process (no server), wrapped as moto_serialized.py wraps it, and checks the
write units the DynamoDB guide's rules give.

Run by `make test` (localstack/test.sh): `.local/venv/bin/python -m pytest localstack/tests`."""

import json
import pathlib
import sys

import boto3
import pytest
from moto import mock_aws

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import moto_units  # noqa: E402

TABLE = "offers"


@pytest.fixture
def dynamodb():
    """A table like `offers`: a sparse KEYS_ONLY index on openFor/offeredAtMs, and an ALL index on
    state, which every item carries."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}, {"AttributeName": "transporterId", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": kind}
                for name, kind in [("subject", "S"), ("transporterId", "S"), ("openFor", "S"), ("offeredAtMs", "N"), ("state", "S")]
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "live-by-transporter",
                    "KeySchema": [{"AttributeName": "openFor", "KeyType": "HASH"}, {"AttributeName": "offeredAtMs", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                },
                {
                    "IndexName": "by-state",
                    "KeySchema": [{"AttributeName": "state", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                },
            ],
        )
        yield client


def billed(client, operation, **request):
    """(write units, read units) moto_units bills for `operation` with `request`, which runs."""
    units = moto_units.Units(operation, json.dumps(request).encode(), {})
    units.before()
    answer = getattr(client, {"PutItem": "put_item", "UpdateItem": "update_item", "DeleteItem": "delete_item",
                              "BatchWriteItem": "batch_write_item"}[operation])(**request)
    return units.after([json.dumps({k: v for k, v in answer.items() if k != "ResponseMetadata"}).encode()])


def offer(transporter, live=True, note="x"):
    item = {"subject": {"S": "booking#1"}, "transporterId": {"S": transporter}, "state": {"S": "open"}, "note": {"S": note}}
    if live:
        item |= {"openFor": {"S": transporter}, "offeredAtMs": {"N": "1000"}}
    return item


KEY = {"subject": {"S": "booking#1"}, "transporterId": {"S": "t1"}}


def test_a_new_item_in_both_indexes_bills_the_table_and_each_index(dynamodb):
    assert billed(dynamodb, "PutItem", TableName=TABLE, Item=offer("t1")) == (3, 0)


def test_an_item_without_the_sparse_index_key_bills_only_the_index_it_is_in(dynamodb):
    assert billed(dynamodb, "PutItem", TableName=TABLE, Item=offer("t1", live=False)) == (2, 0)


def test_withdrawing_an_offer_deletes_its_sparse_entry_and_rewrites_the_projected_one(dynamodb):
    # GIVEN a live offer
    billed(dynamodb, "PutItem", TableName=TABLE, Item=offer("t1"))
    # WHEN its index key is removed and an attribute the ALL index projects changes
    units = billed(dynamodb, "UpdateItem", TableName=TABLE, Key=KEY,
                   UpdateExpression="REMOVE openFor SET note = :n", ExpressionAttributeValues={":n": {"S": "gone"}})
    # THEN the table, the sparse index's delete and the ALL index's rewrite bill one unit each
    assert units == (3, 0)


def test_changing_an_index_key_bills_a_delete_and_a_put_on_that_index(dynamodb):
    billed(dynamodb, "PutItem", TableName=TABLE, Item=offer("t1"))
    units = billed(dynamodb, "UpdateItem", TableName=TABLE, Key=KEY,
                   UpdateExpression="SET offeredAtMs = :at", ExpressionAttributeValues={":at": {"N": "2000"}})
    # the table 1, live-by-transporter 2 (its range key moved), by-state 1 (ALL projects offeredAtMs)
    assert units == (4, 0)


def test_an_attribute_no_keys_only_index_holds_bills_nothing_there(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item=offer("t1"))
    units = billed(dynamodb, "UpdateItem", TableName=TABLE, Key=KEY,
                   UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"S": "y"}})
    # the table 1, by-state 1 (ALL), live-by-transporter 0 (KEYS_ONLY, keys unchanged)
    assert units == (2, 0)


def test_a_batch_bills_every_item_on_the_table_and_its_indexes(dynamodb):
    puts = [{"PutRequest": {"Item": offer(f"t{i}")}} for i in range(3)]
    assert billed(dynamodb, "BatchWriteItem", RequestItems={TABLE: puts}) == (9, 0)


def test_deleting_an_item_bills_its_removal_from_every_index_it_was_in(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item=offer("t1"))
    assert billed(dynamodb, "DeleteItem", TableName=TABLE, Key=KEY) == (3, 0)


def test_a_write_that_changes_nothing_an_index_holds_bills_no_index_unit(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item=offer("t1"))
    # the same item again: the table bills its write, the indexes hold exactly what they held
    assert billed(dynamodb, "PutItem", TableName=TABLE, Item=offer("t1")) == (1, 0)


def test_a_transaction_bills_its_table_writes_twice_and_its_index_writes_once(dynamodb):
    put = {"Put": {"TableName": TABLE, "Item": offer("t1")}}
    units = moto_units.Units("TransactWriteItems", json.dumps({"TransactItems": [put]}).encode(), {})
    units.before()
    dynamodb.transact_write_items(TransactItems=[put])
    assert units.after([b"{}"]) == (2 + 2, 0)


def test_a_conditional_write_that_fails_bills_no_index_unit(dynamodb):
    dynamodb.put_item(TableName=TABLE, Item=offer("t1", live=False))
    request = {"TableName": TABLE, "Item": offer("t1"), "ConditionExpression": "attribute_not_exists(subject)"}
    units = moto_units.Units("PutItem", json.dumps(request).encode(), {})
    units.before()
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(**request)
    # the table bills the attempt; the indexes hold what they held
    assert units.after([b"{}"]) == (1, 0)


def test_a_write_to_a_table_that_does_not_exist_bills_no_index_unit(dynamodb):
    request = {"TableName": "missing", "Key": KEY, "UpdateExpression": "SET note = :n",
               "ExpressionAttributeValues": {":n": {"S": "y"}}}
    units = moto_units.Units("UpdateItem", json.dumps(request).encode(), {})
    units.before()
    with pytest.raises(dynamodb.exceptions.ResourceNotFoundException):
        dynamodb.update_item(**request)
    assert units.after([b"{}"]) == (1, 0)


def test_an_include_index_bills_only_when_an_attribute_it_includes_changes(dynamodb):
    # GIVEN a table whose only index includes `note` and not `extra`
    dynamodb.create_table(
        TableName="notes",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}, {"AttributeName": "owner", "AttributeType": "S"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-owner",
            "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["note"]},
        }],
    )
    dynamodb.put_item(TableName="notes", Item={"id": {"S": "1"}, "owner": {"S": "a"}, "note": {"S": "x"}, "extra": {"S": "x"}})
    update = lambda name: billed(dynamodb, "UpdateItem", TableName="notes", Key={"id": {"S": "1"}},  # noqa: E731
                                 UpdateExpression=f"SET {name} = :v", ExpressionAttributeValues={":v": {"S": "changed"}})
    # THEN changing `extra` bills the table only, changing `note` the index too
    assert update("extra") == (1, 0)
    assert update("note") == (2, 0)


def test_each_table_of_a_batch_or_a_transaction_is_billed_on_its_own(dynamodb):
    # GIVEN a second table with no index
    dynamodb.create_table(
        TableName="log", BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    log_item = {"id": {"S": "1"}, "body": {"S": "b" * 1500}}
    # WHEN one batch writes an offer and a 1.5 KB log item, and one transaction does it again
    batch = {"RequestItems": {TABLE: [{"PutRequest": {"Item": offer("t1")}}], "log": [{"PutRequest": {"Item": log_item}}]}}
    units = moto_units.Units("BatchWriteItem", json.dumps(batch).encode(), {})
    units.before()
    dynamodb.batch_write_item(**batch)
    by_batch = units.after_by_table([b"{}"])
    transaction = {"TransactItems": [{"Put": {"TableName": "log", "Item": log_item}},
                                     {"ConditionCheck": {"TableName": TABLE, "Key": KEY,
                                                         "ConditionExpression": "attribute_exists(subject)"}}]}
    units = moto_units.Units("TransactWriteItems", json.dumps(transaction).encode(), {})
    units.before()
    dynamodb.transact_write_items(**transaction)
    by_transaction = units.after_by_table([b"{}"])
    # THEN the offer bills its table and both indexes, the log item its two started KB, each apart;
    # the transaction bills the log's put twice and the offer's condition check as reads
    assert by_batch == {TABLE: [3, 0], "log": [2, 0]}
    assert by_transaction == {"log": [4, 0], TABLE: [0, 2]}
