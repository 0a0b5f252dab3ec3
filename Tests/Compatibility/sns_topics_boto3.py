#!/usr/bin/env python3
"""Drives Herald's SNS topic API with the real boto3 (run by IntegrationSNSTopicAPITests).

Usage: AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
       python3 Tests/Compatibility/sns_topics_boto3.py http://127.0.0.1:4566 [main|after-restart]

main: CreateTopic with FIFO attributes (idempotence, different attributes, the FIFO naming
rules), Get/SetTopicAttributes, ContentBasedDeduplication deduplicating, MessageStructure=json to
SQS subscriptions (raw and enveloped) and its errors, ListTopics paging, DeleteTopic.
after-restart: the topics and attributes `main` left survive a server restart, and the
subscription on them still delivers.
Exits non-zero with the failing check on the first failure; prints "sns_topics_boto3: <phase> passed".
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def expect_error(call, code, text=None):
    try:
        call()
    except ClientError as error:
        got = error.response["Error"]
        check(got["Code"] == code, f"expected {code}, got {got}")
        if text is not None:
            check(got["Message"] == text, f"expected message {text!r}, got {got['Message']!r}")
        return
    raise AssertionError(f"expected {code}, the call succeeded")


def receive(sqs, url, wait=5):
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def clients(endpoint):
    sns = boto3.client("sns", endpoint_url=endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    return sns, sqs


def attributes(sns, arn):
    return sns.get_topic_attributes(TopicArn=arn)["Attributes"]


DELIVERY = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 1, "maxDelayTarget": 4}}}


def main(endpoint):
    sns, sqs = clients(endpoint)

    # FIFO topic with attributes; idempotent for the same ones, refused for different ones.
    fifo = sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    check(fifo.endswith(":events.fifo"), fifo)
    again = sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    check(again == fifo, "CreateTopic is idempotent")
    expect_error(lambda: sns.create_topic(Name="events.fifo", Attributes={"FifoTopic": "true", "ContentBasedDeduplication": "false"}),
                 "InvalidParameter", "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
    expect_error(lambda: sns.create_topic(Name="plain", Attributes={"FifoTopic": "true"}), "InvalidParameter",
                 "Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII "
                 "letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.")
    expect_error(lambda: sns.create_topic(Name="named.fifo"), "InvalidParameter", "Invalid parameter: Topic Name")
    expect_error(lambda: sns.create_topic(Name="std", Attributes={"ContentBasedDeduplication": "true"}), "InvalidParameter")
    expect_error(lambda: sns.create_topic(Name="std", Attributes={"Bogus": "1"}), "InvalidParameter")

    got = attributes(sns, fifo)
    check(got["FifoTopic"] == "true" and got["ContentBasedDeduplication"] == "true", got)
    check(got["TopicArn"] == fifo and got["Owner"] == "000000000000", got)
    check(json.loads(got["Policy"])["Statement"][0]["Resource"] == fifo, got["Policy"])
    check("defaultHealthyRetryPolicy" in json.loads(got["EffectiveDeliveryPolicy"])["http"], got["EffectiveDeliveryPolicy"])
    check(got["SubscriptionsConfirmed"] == "0" and got["SubscriptionsPending"] == "0", got)

    # ContentBasedDeduplication: the same body twice within 5 minutes is delivered once.
    dedup_url = sqs.create_queue(QueueName="dedup.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    dedup_arn = sqs.get_queue_attributes(QueueUrl=dedup_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=dedup_arn, Attributes={"RawMessageDelivery": "true"})
    first = sns.publish(TopicArn=fifo, Message="same body", MessageGroupId="g")["MessageId"]
    second = sns.publish(TopicArn=fifo, Message="same body", MessageGroupId="g")["MessageId"]
    check(first == second, f"a duplicate answers the first message id ({first} vs {second})")
    bodies = [m["Body"] for m in receive(sqs, dedup_url, wait=2)] + [m["Body"] for m in receive(sqs, dedup_url, wait=1)]
    check(bodies == ["same body"], f"deduplicated to one delivery: {bodies}")
    # Turned off: a FIFO publish then needs an explicit MessageDeduplicationId.
    sns.set_topic_attributes(TopicArn=fifo, AttributeName="ContentBasedDeduplication", AttributeValue="false")
    check(attributes(sns, fifo)["ContentBasedDeduplication"] == "false", "SetTopicAttributes ContentBasedDeduplication")
    expect_error(lambda: sns.publish(TopicArn=fifo, Message="x", MessageGroupId="g"), "InvalidParameter")
    sns.set_topic_attributes(TopicArn=fifo, AttributeName="ContentBasedDeduplication", AttributeValue="true")

    # A standard topic's attributes.
    orders = sns.create_topic(Name="orders", Attributes={"DisplayName": "Orders"})["TopicArn"]
    check(attributes(sns, orders)["DisplayName"] == "Orders", "DisplayName from CreateTopic")
    sns.set_topic_attributes(TopicArn=orders, AttributeName="DisplayName", AttributeValue="Order events")
    sns.set_topic_attributes(TopicArn=orders, AttributeName="DeliveryPolicy", AttributeValue=json.dumps(DELIVERY))
    got = attributes(sns, orders)
    check(got["DisplayName"] == "Order events", got)
    check(json.loads(got["DeliveryPolicy"]) == DELIVERY, got)
    check(json.loads(got["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 5, got)
    check("FifoTopic" not in got, got)
    expect_error(lambda: sns.set_topic_attributes(TopicArn=orders, AttributeName="Colour", AttributeValue="red"),
                 "InvalidParameter", "Invalid parameter: AttributeName")
    expect_error(lambda: sns.set_topic_attributes(TopicArn=orders, AttributeName="DeliveryPolicy", AttributeValue='{"http":{"defaultHealthyRetryPolicy":{"numRetries":101}}}'),
                 "InvalidParameter")
    expect_error(lambda: sns.set_topic_attributes(TopicArn=orders, AttributeName="ContentBasedDeduplication", AttributeValue="true"), "InvalidParameter")
    expect_error(lambda: sns.get_topic_attributes(TopicArn=orders + "-missing"), "NotFound", "Topic does not exist")

    # MessageStructure=json: the sqs text for SQS subscriptions, raw and enveloped.
    raw_url = sqs.create_queue(QueueName="structured-raw")["QueueUrl"]
    env_url = sqs.create_queue(QueueName="structured-env")["QueueUrl"]
    for url, raw in [(raw_url, "true"), (env_url, "false")]:
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=orders, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": raw})
    structured = json.dumps({"default": "for everyone", "sqs": "for queues", "email": "ignored"})
    sns.publish(TopicArn=orders, Message=structured, MessageStructure="json", Subject="s")
    check([m["Body"] for m in receive(sqs, raw_url)] == ["for queues"], "raw delivery gets the sqs text")
    envelope = json.loads(receive(sqs, env_url)[0]["Body"])
    check(envelope["Message"] == "for queues" and envelope["Type"] == "Notification", envelope)
    sns.publish(TopicArn=orders, Message=json.dumps({"default": "only default"}), MessageStructure="json")
    check([m["Body"] for m in receive(sqs, raw_url)] == ["only default"], "no sqs key: the default text")
    receive(sqs, env_url)
    expect_error(lambda: sns.publish(TopicArn=orders, Message=json.dumps({"sqs": "x"}), MessageStructure="json"),
                 "InvalidParameter", "Invalid parameter: Message Structure - No default entry in JSON message body")
    expect_error(lambda: sns.publish(TopicArn=orders, Message="not json", MessageStructure="json"),
                 "InvalidParameter", "Invalid parameter: Message Structure - JSON message body failed to parse")
    batch = sns.publish_batch(TopicArn=orders, PublishBatchRequestEntries=[
        {"Id": "a", "Message": json.dumps({"default": "d", "sqs": "batched"}), "MessageStructure": "json"},
        {"Id": "b", "Message": "plain"},
    ])
    check(len(batch["Successful"]) == 2 and not batch["Failed"], batch)
    got = sorted(m["Body"] for m in receive(sqs, raw_url) + receive(sqs, raw_url, wait=1))
    check(got == ["batched", "plain"], f"PublishBatch with MessageStructure: {got}")
    receive(sqs, env_url)

    # ListTopics: 100 a page, an opaque NextToken, a garbled one refused.
    made = [sns.create_topic(Name=f"page-{i:03}")["TopicArn"] for i in range(105)]
    pages = list(sns.get_paginator("list_topics").paginate())
    listed = [t["TopicArn"] for page in pages for t in page["Topics"]]
    check(len(pages) >= 2 and len(pages[0]["Topics"]) == 100, f"{len(pages)} pages")
    check(set(made) <= set(listed) and len(listed) == len(set(listed)), "every topic listed once")
    expect_error(lambda: sns.list_topics(NextToken="!!garbled!!"), "InvalidParameter")
    for arn in made:
        sns.delete_topic(TopicArn=arn)

    # CreateTopic's Tags are kept where TagResource keeps them.
    tagged = sns.create_topic(Name="tagged", Tags=[{"Key": "team", "Value": "payments"}])["TopicArn"]
    tags = sns.list_tags_for_resource(ResourceArn=tagged)["Tags"]
    check(tags == [{"Key": "team", "Value": "payments"}], tags)
    sns.delete_topic(TopicArn=tagged)

    # DeleteTopic: gone, idempotent.
    gone = sns.create_topic(Name="short-lived", Attributes={"DisplayName": "x"})["TopicArn"]
    sns.delete_topic(TopicArn=gone)
    sns.delete_topic(TopicArn=gone)
    expect_error(lambda: sns.get_topic_attributes(TopicArn=gone), "NotFound")
    print("sns_topics_boto3: main passed")


def after_restart(endpoint):
    sns, sqs = clients(endpoint)
    arns = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    check(any(a.endswith(":events.fifo") for a in arns) and any(a.endswith(":orders") for a in arns), arns)
    check(not any(a.endswith(":short-lived") or a.endswith(":tagged") or ":page-" in a for a in arns), arns)
    fifo = next(a for a in arns if a.endswith(":events.fifo"))
    orders = next(a for a in arns if a.endswith(":orders"))
    got = attributes(sns, fifo)
    check(got["FifoTopic"] == "true" and got["ContentBasedDeduplication"] == "true", got)
    got = attributes(sns, orders)
    check(got["DisplayName"] == "Order events" and json.loads(got["DeliveryPolicy"]) == DELIVERY, got)
    # Content-based deduplication still on: no MessageDeduplicationId needed.
    sns.publish(TopicArn=fifo, Message="after restart", MessageGroupId="g")
    dedup_url = sqs.get_queue_url(QueueName="dedup.fifo")["QueueUrl"]
    check([m["Body"] for m in receive(sqs, dedup_url)] == ["after restart"], "the FIFO subscription survived")
    sns.publish(TopicArn=orders, Message=json.dumps({"default": "d", "sqs": "still structured"}), MessageStructure="json")
    raw_url = sqs.get_queue_url(QueueName="structured-raw")["QueueUrl"]
    check([m["Body"] for m in receive(sqs, raw_url)] == ["still structured"], "the SQS subscription survived")
    print("sns_topics_boto3: after-restart passed")


if __name__ == "__main__":
    phase = sys.argv[2] if len(sys.argv) > 2 else "main"
    {"main": main, "after-restart": after_restart}[phase](sys.argv[1])
