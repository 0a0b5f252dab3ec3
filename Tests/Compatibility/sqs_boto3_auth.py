#!/usr/bin/env python3
"""SigV4 on Herald's HTTP API, with the real boto3 (run by IntegrationSQSAPITests.boto3SignaturesAreVerified).

Usage: python3 Tests/Compatibility/sqs_boto3_auth.py ENDPOINT KEY_ID SECRET
The server must have a user with access key KEY_ID / SECRET allowed to publish and subscribe.
Prints "sqs_boto3_auth: all checks passed" or exits non-zero with the failing check.
"""
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def client(endpoint, key, secret):
    return boto3.client(
        "sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}))


def expect_error(call, code, what):
    try:
        call()
    except ClientError as error:
        got = error.response["Error"]["Code"]
        status = error.response["ResponseMetadata"]["HTTPStatusCode"]
        if got != code or status != 403:
            raise AssertionError("%s: expected %s (403), got %s (%s): %s" % (what, code, got, status, error))
        return
    raise AssertionError("%s: expected %s, the call succeeded" % (what, code))


def main():
    endpoint, key, secret = sys.argv[1:4]
    good = client(endpoint, key, secret)
    url = good.create_queue(QueueName="signed")["QueueUrl"]
    good.send_message(QueueUrl=url, MessageBody="signed body")
    got = good.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
    if [m["Body"] for m in got] != ["signed body"]:
        raise AssertionError("the signed client did not get its message back: %r" % got)
    expect_error(lambda: client(endpoint, key, secret + "x").list_queues(), "SignatureDoesNotMatch", "a wrong secret")
    expect_error(lambda: client(endpoint, "AKIAUNKNOWNKEY000000", secret).list_queues(), "InvalidClientTokenId", "an unknown key")
    print("sqs_boto3_auth: all checks passed")


if __name__ == "__main__":
    main()
