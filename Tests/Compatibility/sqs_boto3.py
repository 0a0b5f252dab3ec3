#!/usr/bin/env python3
"""Drives Herald's SQS JSON API with the real boto3 (run by IntegrationSQSAPITests.boto3DrivesTheQueueAPI).

Usage: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
       python3 Tests/Compatibility/sqs_boto3.py http://127.0.0.1:4566

Message attributes: MD5OfMessageAttributes is checked against the SDKs' documented algorithm,
computed here independently of Herald's Swift code (botocore itself does not check it; the other
SDKs do).
Exits non-zero with the failing check on the first failure; prints "sqs_boto3: all checks passed".
"""
import hashlib
import sys
import threading
import time
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def md5_of_attributes(attributes):
    """The SQS SDKs' digest: names sorted; per attribute, length-prefixed (4-byte big-endian) name,
    data type, one transport byte (1 string/number, 2 binary) and length-prefixed value."""
    digest = hashlib.md5()

    def put(data):
        digest.update(len(data).to_bytes(4, "big") + data)

    for name in sorted(attributes):
        value = attributes[name]
        put(name.encode())
        put(value["DataType"].encode())
        if "BinaryValue" in value:
            digest.update(b"\x02")
            put(value["BinaryValue"])
        else:
            digest.update(b"\x01")
            put(value["StringValue"].encode())
    return digest.hexdigest()


def main(endpoint):
    sqs = boto3.client("sqs", endpoint_url=endpoint, config=Config(retries={"max_attempts": 1}, read_timeout=40))
    name = "boto3-" + uuid.uuid4().hex[:8]

    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "30"}, tags={"team": "payments"})["QueueUrl"]
    check(sqs.list_queue_tags(QueueUrl=url).get("Tags") == {"team": "payments"}, "CreateQueue's tags are kept")
    check(url.endswith("/000000000000/" + name), "QueueUrl shape: " + url)
    check(sqs.get_queue_url(QueueName=name)["QueueUrl"] == url, "GetQueueUrl answers CreateQueue's URL")
    check(url in sqs.list_queues(QueueNamePrefix="boto3-").get("QueueUrls", []), "ListQueues lists the queue")

    sent = sqs.send_message(QueueUrl=url, MessageBody="hello herald")
    check(sent["MD5OfMessageBody"] == hashlib.md5(b"hello herald").hexdigest(), "MD5OfMessageBody")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    check(len(got) == 1 and got[0]["Body"] == "hello herald" and got[0]["MessageId"] == sent["MessageId"], "receive: %r" % got)
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])

    # Long polling: an empty queue waits, and a message sent meanwhile ends the wait early.
    started = time.monotonic()
    empty = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    check(empty == [] and time.monotonic() - started >= 0.8, "an empty long poll waits its second")
    sender = threading.Timer(1.0, lambda: sqs.send_message(QueueUrl=url, MessageBody="late"))
    sender.start()
    started = time.monotonic()
    late = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10).get("Messages", [])
    waited = time.monotonic() - started
    sender.join()
    check(len(late) == 1 and late[0]["Body"] == "late" and waited < 8, "long poll woken by a send (%.1f s): %r" % (waited, late))
    sqs.delete_message(QueueUrl=url, ReceiptHandle=late[0]["ReceiptHandle"])

    # Batches.
    batch = sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "m%d" % i, "MessageBody": "body %d" % i} for i in range(5)])
    check(len(batch.get("Successful", [])) == 5 and not batch.get("Failed"), "SendMessageBatch: %r" % batch)
    for entry in batch["Successful"]:
        index = int(entry["Id"][1:])
        check(entry["MD5OfMessageBody"] == hashlib.md5(("body %d" % index).encode()).hexdigest(), "batch MD5 of " + entry["Id"])
    received = []
    deadline = time.monotonic() + 10
    while len(received) < 5 and time.monotonic() < deadline:
        received += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    check(sorted(m["Body"] for m in received) == ["body %d" % i for i in range(5)], "batch received: %r" % [m["Body"] for m in received])
    changed = sqs.change_message_visibility_batch(
        QueueUrl=url, Entries=[{"Id": "c%d" % i, "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 60} for i, m in enumerate(received)])
    check(len(changed.get("Successful", [])) == 5, "ChangeMessageVisibilityBatch: %r" % changed)
    deleted = sqs.delete_message_batch(
        QueueUrl=url, Entries=[{"Id": "d%d" % i, "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)])
    check(len(deleted.get("Successful", [])) == 5 and not deleted.get("Failed"), "DeleteMessageBatch: %r" % deleted)
    bad = sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": "x", "ReceiptHandle": "not-a-handle"}])
    check(len(bad.get("Failed", [])) == 1 and bad["Failed"][0]["Id"] == "x", "a bad handle fails its entry: %r" % bad)

    # Message attributes, with the digests the SDKs verify.
    message_attributes = {
        "color": {"DataType": "String", "StringValue": "blue"},
        "price": {"DataType": "Number", "StringValue": "99.5"},
        "blob": {"DataType": "Binary", "BinaryValue": bytes([2, 3, 4])},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="with attributes", MessageAttributes=message_attributes)
    check(sent.get("MD5OfMessageAttributes") == md5_of_attributes(message_attributes), "send MD5OfMessageAttributes: %r" % sent)
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"]).get("Messages", [])
    check(len(got) == 1 and got[0].get("MessageAttributes") == message_attributes, "received attributes: %r" % got)
    check(got[0].get("MD5OfMessageAttributes") == md5_of_attributes(message_attributes), "receive MD5OfMessageAttributes")
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])

    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    check(attributes.get("VisibilityTimeout") == "30" and attributes.get("ApproximateNumberOfMessages") == "0", "attributes: %r" % attributes)

    # Errors: the legacy code from x-amzn-query-error, the modelled exception class from __type.
    try:
        sqs.get_queue_url(QueueName="no-such-queue-" + name)
        check(False, "GetQueueUrl of a missing queue succeeded")
    except sqs.exceptions.QueueDoesNotExist as error:
        check(error.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue", "error code: %r" % error.response["Error"])
        check(error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, "status 400")
    try:
        sqs.send_message(QueueUrl=url.rsplit("/", 1)[0] + "/no-such-queue", MessageBody="x")
        check(False, "SendMessage to a missing queue succeeded")
    except ClientError as error:
        check(error.response["Error"]["Code"] in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"), "error: %r" % error.response["Error"])

    sqs.delete_queue(QueueUrl=url)
    check(url not in sqs.list_queues(QueueNamePrefix="boto3-").get("QueueUrls", []), "DeleteQueue removes it")
    print("sqs_boto3: all checks passed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sqs_boto3.py ENDPOINT_URL")
    main(sys.argv[1])
