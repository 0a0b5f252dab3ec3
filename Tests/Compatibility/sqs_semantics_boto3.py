#!/usr/bin/env python3
"""SQS and SNS→SQS semantics through the real boto3 (run by
IntegrationSQSAPITests.boto3ChecksQueueSemantics): visibility expiry and redelivery, redrive to a
dead-letter queue and back (StartMessageMoveTask), FIFO ordering and deduplication, and SNS→SQS
fan-out with filter policies of both scopes, raw and enveloped.

Usage: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
       python3 Tests/Compatibility/sqs_semantics_boto3.py http://127.0.0.1:4566
Exits non-zero with the failing check on the first failure; prints
"sqs_semantics_boto3: all checks passed".
"""
import json
import sys
import time
import uuid

import boto3
from botocore.config import Config


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def receive(sqs, url, wait=1, count=10, **extra):
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count, WaitTimeSeconds=wait, **extra).get("Messages", [])


def drain(sqs, url, expected, deadline_seconds=10):
    """Receives (and deletes) until `expected` messages came or the deadline passed."""
    got = []
    deadline = time.time() + deadline_seconds
    while len(got) < expected and time.time() < deadline:
        for message in receive(sqs, url):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got


def main(endpoint):
    config = Config(retries={"max_attempts": 1}, read_timeout=40)
    sqs = boto3.client("sqs", endpoint_url=endpoint, config=config)
    sns = boto3.client("sns", endpoint_url=endpoint, config=config)
    tag = uuid.uuid4().hex[:8]

    # Visibility: a received message is invisible for its timeout, then comes back with a new
    # receipt handle and ApproximateReceiveCount 2.
    dlq = sqs.create_queue(QueueName="dlq-" + tag)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    work = sqs.create_queue(QueueName="work-" + tag, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive})["QueueUrl"]
    sent = sqs.send_message(QueueUrl=work, MessageBody="poison")["MessageId"]
    first = receive(sqs, work, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    check(len(first) == 1 and first[0]["MessageId"] == sent, "first receive: %r" % first)
    check(receive(sqs, work, wait=0) == [], "an in-flight message is not received again before its timeout")
    time.sleep(1.3)
    second = receive(sqs, work, wait=2, MessageSystemAttributeNames=["ApproximateReceiveCount"])
    check(len(second) == 1 and second[0]["MessageId"] == sent, "redelivered after the visibility timeout: %r" % second)
    check(second[0]["ReceiptHandle"] != first[0]["ReceiptHandle"], "a new receipt handle on every receive")
    check(second[0]["Attributes"]["ApproximateReceiveCount"] == "2", "ApproximateReceiveCount 2: %r" % second[0]["Attributes"])
    # ChangeMessageVisibility to 0 makes it visible at once; a third receive exceeds maxReceiveCount 2.
    sqs.change_message_visibility(QueueUrl=work, ReceiptHandle=second[0]["ReceiptHandle"], VisibilityTimeout=0)
    check(receive(sqs, work, wait=1) == [], "past maxReceiveCount the message is not received from the source queue")
    moved = receive(sqs, dlq, wait=2)
    check(len(moved) == 1 and moved[0]["MessageId"] == sent and moved[0]["Body"] == "poison", "redriven to the DLQ: %r" % moved)
    sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"]
    check(sources == [work], "ListDeadLetterSourceQueues: %r" % sources)
    # Back to the source with StartMessageMoveTask (the DLQ redrive).
    sqs.change_message_visibility(QueueUrl=dlq, ReceiptHandle=moved[0]["ReceiptHandle"], VisibilityTimeout=0)
    work_arn = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    task = sqs.start_message_move_task(SourceArn=dlq_arn, DestinationArn=work_arn)
    check("TaskHandle" in task, "StartMessageMoveTask answers a TaskHandle: %r" % task)
    back = drain(sqs, work, 1)
    check([m["Body"] for m in back] == ["poison"], "moved back to the source queue: %r" % back)

    # FIFO: order within a group, and deduplication by id and by content.
    fifo = sqs.create_queue(QueueName="orders-%s.fifo" % tag, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
    ids = []
    for index in range(5):
        ids.append(sqs.send_message(QueueUrl=fifo, MessageBody="m%d" % index, MessageGroupId="g1")["MessageId"])
    again = sqs.send_message(QueueUrl=fifo, MessageBody="m0", MessageGroupId="g1")["MessageId"]
    check(again == ids[0], "content-based deduplication answers the first message's id: %s vs %s" % (again, ids[0]))
    by_id = sqs.send_message(QueueUrl=fifo, MessageBody="other body", MessageGroupId="g1", MessageDeduplicationId="d-1")
    dup = sqs.send_message(QueueUrl=fifo, MessageBody="third body", MessageGroupId="g1", MessageDeduplicationId="d-1")
    check(dup["MessageId"] == by_id["MessageId"], "deduplication by MessageDeduplicationId")
    check("SequenceNumber" in by_id, "FIFO sends carry a SequenceNumber")
    # One group: one message in flight at a time, in order.
    bodies = []
    deadline = time.time() + 10
    while len(bodies) < 6 and time.time() < deadline:
        batch = receive(sqs, fifo, count=10)
        bodies += [message["Body"] for message in batch]
        if batch:
            sqs.delete_message_batch(QueueUrl=fifo, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
    check(bodies == ["m0", "m1", "m2", "m3", "m4", "other body"], "FIFO order, duplicates dropped: %r" % bodies)

    # SNS → SQS: attribute scope and body scope filter policies, raw and enveloped delivery.
    topic = sns.create_topic(Name="events-" + tag)["TopicArn"]
    by_attribute = sqs.create_queue(QueueName="by-attribute-" + tag)["QueueUrl"]
    by_body = sqs.create_queue(QueueName="by-body-" + tag)["QueueUrl"]

    def arn(url):
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn(by_attribute), Attributes={
        "FilterPolicy": json.dumps({"kind": ["order"], "amount": [{"numeric": [">=", 100]}]}), "RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn(by_body), Attributes={
        "FilterPolicy": json.dumps({"customer": {"tier": ["gold"]}}), "FilterPolicyScope": "MessageBody"})
    def attributes(kind, amount):
        return {"kind": {"DataType": "String", "StringValue": kind}, "amount": {"DataType": "Number", "StringValue": str(amount)}}
    sns.publish(TopicArn=topic, Message=json.dumps({"customer": {"tier": "gold"}, "n": 1}), MessageAttributes=attributes("order", 250))
    sns.publish(TopicArn=topic, Message=json.dumps({"customer": {"tier": "silver"}, "n": 2}), MessageAttributes=attributes("order", 50))
    sns.publish(TopicArn=topic, Message=json.dumps({"customer": {"tier": "gold"}, "n": 3}), MessageAttributes=attributes("refund", 500))
    raw = drain(sqs, by_attribute, 1)
    check([json.loads(m["Body"])["n"] for m in raw] == [1], "attribute scope selects n=1 only, raw body: %r" % raw)
    check(receive(sqs, by_attribute, wait=1) == [], "nothing else matched the attribute policy")
    enveloped = drain(sqs, by_body, 2)
    check(sorted(json.loads(json.loads(m["Body"])["Message"])["n"] for m in enveloped) == [1, 3], "body scope selects n=1 and n=3: %r" % enveloped)
    envelope = json.loads(enveloped[0]["Body"])
    check(envelope["Type"] == "Notification" and envelope["TopicArn"] == topic, "an SNS envelope: %r" % envelope)
    check(receive(sqs, by_body, wait=1) == [], "nothing else matched the body policy")

    print("sqs_semantics_boto3: all checks passed")


if __name__ == "__main__":
    main(sys.argv[1])
