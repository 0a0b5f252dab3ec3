#!/usr/bin/env python3
"""The legacy SQS query protocol (older SDKs) on Herald's HTTP API, as such a client sends it: form-encoded
POSTs signed with botocore's SigV4Auth over the body, sent with urllib, XML answers read with xml.etree
(run by IntegrationSQSQueryTests).

Usage: python3 Tests/Compatibility/sqs_query.py ENDPOINT KEY_ID SECRET [--verified]
The server must accept KEY_ID / SECRET (a user with that access key, or any key when it verifies none);
with --verified it verifies signatures, and a wrong secret must be SignatureDoesNotMatch (403).
Prints "sqs_query: all checks passed" or exits non-zero with the failing check.
"""
import base64
import hashlib
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"
ACCOUNT = "000000000000"
# The operations whose answer is only <ResponseMetadata> (spec §2.3); every other one has a Result.
WITHOUT_RESULT = {"DeleteQueue", "DeleteMessage", "ChangeMessageVisibility", "PurgeQueue", "SetQueueAttributes", "TagQueue", "UntagQueue"}


class Client:
    def __init__(self, endpoint, key, secret):
        self.endpoint, self.credentials = endpoint.rstrip("/"), Credentials(key, secret)

    def call(self, action, params=None, path="/", version=True):
        """POSTs Action + params to path, signed as botocore signs; returns (status, root element)."""
        fields = {"Action": action}
        if version:
            fields["Version"] = "2012-11-05"
        fields.update(params or {})
        body = urllib.parse.urlencode(fields).encode("utf-8")
        request = AWSRequest(method="POST", url=self.endpoint + path, data=body,
                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
        SigV4Auth(self.credentials, "sqs", "us-east-1").add_auth(request)
        prepared = request.prepare()
        sent = urllib.request.Request(prepared.url, data=body, headers=dict(prepared.headers.items()), method="POST")
        try:
            with urllib.request.urlopen(sent, timeout=30) as response:
                status, text, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, text, headers = error.code, error.read(), error.headers
        check(headers.get("Content-Type") == "text/xml", "%s: Content-Type %r" % (action, headers.get("Content-Type")))
        check(len(headers.get("x-amzn-RequestId") or "") == 36, "%s: no x-amzn-RequestId" % action)
        return status, ET.fromstring(text)

    def ok(self, action, params=None, path="/", version=True):
        """A call that must succeed: returns its <{action}Result> (None for operations without output)."""
        status, root = self.call(action, params, path, version)
        check(status == 200, "%s: status %d: %s" % (action, status, ET.tostring(root).decode()))
        check(root.tag == NS + action + "Response", "%s: root %s" % (action, root.tag))
        check(root.find(NS + "ResponseMetadata/" + NS + "RequestId") is not None, "%s: no ResponseMetadata" % action)
        result = root.find(NS + action + "Result")
        check((result is None) == (action in WITHOUT_RESULT), "%s: Result element %s" % (action, "missing" if result is None else "unexpected"))
        return result

    def error(self, action, params, status, code, message=None, path="/"):
        got, root = self.call(action, params, path)
        check(root.find(NS + "ResponseMetadata") is None, "%s: an error with ResponseMetadata" % action)
        check(root.tag == NS + "ErrorResponse", "%s: not an ErrorResponse: %s" % (action, root.tag))
        error = root.find(NS + "Error")
        found = (got, text(error, "Type"), text(error, "Code"))
        check(found == (status, "Sender", code), "%s: expected %s, got %s" % (action, (status, "Sender", code), found))
        if message is not None:
            check(text(error, "Message") == message, "%s: message %r" % (action, text(error, "Message")))
        check(root.find(NS + "RequestId") is not None, "%s: error without RequestId" % action)


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def text(element, name):
    found = element.find(NS + name) if element is not None else None
    return None if found is None else (found.text or "")


def pairs(element, item, key="Name"):
    """A flattened map: repeated <item><key/><Value/></item> → dict."""
    return {text(e, key): text(e, "Value") for e in element.findall(NS + item)}


def md5_of_attributes(attributes):
    """MD5OfMessageAttributes as the SDKs compute it (spec §5): {name: (type, str | bytes)}."""
    digest = hashlib.md5()
    for name in sorted(attributes):
        data_type, value = attributes[name]
        for part in (name, data_type):
            encoded = part.encode("utf-8")
            digest.update(struct.pack(">I", len(encoded)) + encoded)
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        digest.update(bytes([2 if isinstance(value, bytes) else 1]) + struct.pack(">I", len(raw)) + raw)
    return digest.hexdigest()


def received_attributes(message):
    found = {}
    for attribute in message.findall(NS + "MessageAttribute"):
        value = attribute.find(NS + "Value")
        binary = text(value, "BinaryValue")
        found[text(attribute, "Name")] = (text(value, "DataType"), base64.b64decode(binary) if binary is not None else text(value, "StringValue"))
    return found


def attribute_params(prefix, attributes):
    params = {}
    for index, (name, (data_type, value)) in enumerate(sorted(attributes.items()), start=1):
        params["%sMessageAttribute.%d.Name" % (prefix, index)] = name
        params["%sMessageAttribute.%d.Value.DataType" % (prefix, index)] = data_type
        if isinstance(value, bytes):
            params["%sMessageAttribute.%d.Value.BinaryValue" % (prefix, index)] = base64.b64encode(value).decode()
        else:
            params["%sMessageAttribute.%d.Value.StringValue" % (prefix, index)] = value
    return params


def main():
    endpoint, key, secret = sys.argv[1:4]
    sqs = Client(endpoint, key, secret)
    if "--verified" in sys.argv[4:]:
        status, root = Client(endpoint, key, secret + "x").call("ListQueues")
        error = root.find(NS + "Error")
        check((status, text(error, "Type"), text(error, "Code")) == (403, "Sender", "SignatureDoesNotMatch"),
              "a wrong secret: %d %s" % (status, ET.tostring(root).decode()))
    queue_path = "/%s/legacy-query" % ACCOUNT

    created = sqs.ok("CreateQueue", {"QueueName": "legacy-query", "Attribute.1.Name": "VisibilityTimeout", "Attribute.1.Value": "30",
                                     "Attribute.2.Name": "MaximumMessageSize", "Attribute.2.Value": "2048",
                                     "Tag.1.Key": "team", "Tag.1.Value": "ops"})
    url = text(created, "QueueUrl")
    check(url is not None and url.endswith(queue_path), "CreateQueue: QueueUrl %r" % url)
    check(text(sqs.ok("GetQueueUrl", {"QueueName": "legacy-query"}), "QueueUrl") == url, "GetQueueUrl")
    check(pairs(sqs.ok("ListQueueTags", {"QueueUrl": url}), "Tag", "Key") == {"team": "ops"}, "the CreateQueue tags")
    sqs.ok("TagQueue", {"QueueUrl": url, "Tag.1.Key": "tier", "Tag.1.Value": "2"})
    sqs.ok("UntagQueue", {"QueueUrl": url, "TagKey.1": "team"})
    check(pairs(sqs.ok("ListQueueTags", {"QueueUrl": url}), "Tag", "Key") == {"tier": "2"}, "TagQueue / UntagQueue")
    # No Version: the credential scope (sqs) routes it.
    listed = [e.text for e in sqs.ok("ListQueues", {"QueueNamePrefix": "legacy"}, version=False).findall(NS + "QueueUrl")]
    check(listed == [url], "ListQueues: %r" % listed)

    # SendMessage to the queue's path with no QueueUrl (Java v1), with every attribute type.
    body = 'a<b>&"c" \u00e9 \U0001F600\r\nline two'
    attributes = {"color": ("String", "blue"), "price": ("Number.float", "4.50"), "blob": ("Binary", b"\x00\x01\xff")}
    params = {"MessageBody": body}
    params.update(attribute_params("", attributes))
    sent = sqs.ok("SendMessage", params, path=queue_path)
    check(text(sent, "MD5OfMessageBody") == hashlib.md5(body.encode("utf-8")).hexdigest(), "SendMessage MD5OfMessageBody")
    check(text(sent, "MD5OfMessageAttributes") == md5_of_attributes(attributes), "SendMessage MD5OfMessageAttributes")
    check(text(sent, "MessageId"), "SendMessage: no MessageId")

    batch = {"SendMessageBatchRequestEntry.1.Id": "one", "SendMessageBatchRequestEntry.1.MessageBody": "first",
             "SendMessageBatchRequestEntry.2.Id": "two", "SendMessageBatchRequestEntry.2.MessageBody": "second"}
    batch.update(attribute_params("SendMessageBatchRequestEntry.2.", {"k": ("String", "v")}))
    batch_result = sqs.ok("SendMessageBatch", dict(batch, QueueUrl=url))
    entries = {text(e, "Id"): e for e in batch_result.findall(NS + "SendMessageBatchResultEntry")}
    check(sorted(entries) == ["one", "two"] and not batch_result.findall(NS + "BatchResultErrorEntry"), "SendMessageBatch entries")
    check(text(entries["one"], "MD5OfMessageBody") == hashlib.md5(b"first").hexdigest(), "batch MD5OfMessageBody")
    check(text(entries["one"], "MD5OfMessageAttributes") is None, "an entry without attributes has no MD5OfMessageAttributes")
    check(text(entries["two"], "MD5OfMessageAttributes") == md5_of_attributes({"k": ("String", "v")}), "batch MD5OfMessageAttributes")

    messages = {}
    for _ in range(5):
        result = sqs.ok("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": "10", "WaitTimeSeconds": "1",
                                           "AttributeName.1": "All", "MessageAttributeName.1": "All"})
        for message in result.findall(NS + "Message"):
            messages[text(message, "Body")] = message
        if len(messages) == 3:
            break
    check(sorted(messages) == sorted([body, "first", "second"]), "ReceiveMessage bodies: %r" % sorted(messages))
    for got_body, message in messages.items():
        check(text(message, "MD5OfBody") == hashlib.md5(got_body.encode("utf-8")).hexdigest(), "ReceiveMessage MD5OfBody of %r" % got_body)
        system = pairs(message, "Attribute")
        check(system.get("ApproximateReceiveCount") == "1" and system.get("SentTimestamp", "").isdigit(), "system attributes %r" % system)
        returned = received_attributes(message)
        if returned:
            check(text(message, "MD5OfMessageAttributes") == md5_of_attributes(returned), "ReceiveMessage MD5OfMessageAttributes")
        else:
            check(text(message, "MD5OfMessageAttributes") is None, "MD5OfMessageAttributes without attributes")
    check(received_attributes(messages[body]) == attributes, "the attributes came back: %r" % received_attributes(messages[body]))

    # ChangeMessageVisibility to 0 makes the first message visible again at once.
    sqs.ok("ChangeMessageVisibility", {"QueueUrl": url, "ReceiptHandle": text(messages["first"], "ReceiptHandle"), "VisibilityTimeout": "0"})
    again = sqs.ok("ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": "2", "AttributeName.1": "ApproximateReceiveCount"}).findall(NS + "Message")
    check([text(m, "Body") for m in again] == ["first"], "ChangeMessageVisibility: %r" % [text(m, "Body") for m in again])
    check(pairs(again[0], "Attribute") == {"ApproximateReceiveCount": "2"}, "the second receive's count")
    messages["first"] = again[0]
    changed = sqs.ok("ChangeMessageVisibilityBatch", {"QueueUrl": url, "ChangeMessageVisibilityBatchRequestEntry.1.Id": "c1",
                                                      "ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle": text(again[0], "ReceiptHandle"),
                                                      "ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout": "60"})
    check([text(e, "Id") for e in changed.findall(NS + "ChangeMessageVisibilityBatchResultEntry")] == ["c1"], "ChangeMessageVisibilityBatch")

    deletes = {"QueueUrl": url}
    for index, got_body in enumerate(sorted(messages), start=1):
        deletes["DeleteMessageBatchRequestEntry.%d.Id" % index] = "d%d" % index
        deletes["DeleteMessageBatchRequestEntry.%d.ReceiptHandle" % index] = text(messages[got_body], "ReceiptHandle")
    deletes["DeleteMessageBatchRequestEntry.4.Id"] = "bogus"
    deletes["DeleteMessageBatchRequestEntry.4.ReceiptHandle"] = "not-a-receipt-handle"
    deleted = sqs.ok("DeleteMessageBatch", deletes)
    check(sorted(text(e, "Id") for e in deleted.findall(NS + "DeleteMessageBatchResultEntry")) == ["d1", "d2", "d3"], "DeleteMessageBatch successes")
    failed = deleted.findall(NS + "BatchResultErrorEntry")
    check([text(e, "Id") for e in failed] == ["bogus"] and text(failed[0], "SenderFault") == "true" and text(failed[0], "Code"),
          "DeleteMessageBatch failure entry")

    counts = pairs(sqs.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "All"}), "Attribute")
    check(counts.get("ApproximateNumberOfMessages") == "0" and counts.get("ApproximateNumberOfMessagesNotVisible") == "0", "counts %r" % counts)
    check(counts.get("VisibilityTimeout") == "30" and counts.get("MaximumMessageSize") == "2048", "CreateQueue attributes %r" % counts)
    check(counts.get("QueueArn") == "arn:aws:sqs:us-east-1:%s:legacy-query" % ACCOUNT, "QueueArn %r" % counts.get("QueueArn"))
    sqs.ok("SetQueueAttributes", {"QueueUrl": url, "Attribute.1.Name": "DelaySeconds", "Attribute.1.Value": "2"})
    check(pairs(sqs.ok("GetQueueAttributes", {"QueueUrl": url, "AttributeName.1": "DelaySeconds"}), "Attribute") == {"DelaySeconds": "2"},
          "SetQueueAttributes")
    sqs.ok("PurgeQueue", {"QueueUrl": url})

    # Errors: SQS's XML with the legacy codes and texts.
    missing = "The specified queue does not exist for this wsdl version."
    sqs.error("GetQueueUrl", {"QueueName": "nowhere"}, 400, "AWS.SimpleQueueService.NonExistentQueue", missing)
    sqs.error("SendMessage", {"MessageBody": "x"}, 400, "AWS.SimpleQueueService.NonExistentQueue", missing, path="/%s/nowhere" % ACCOUNT)
    sqs.error("SendMessage", {"MessageBody": "x"}, 400, "MissingParameter")
    sqs.error("DeleteMessageBatch", {"QueueUrl": url}, 400, "AWS.SimpleQueueService.EmptyBatchRequest")
    sqs.error("Frobnicate", {}, 400, "InvalidAction", "The action Frobnicate is not valid for this web service.")
    sqs.error("SendMessage", {"QueueUrl": url, "MessageBody": "x", "Attribute.x.Name": "y"}, 400, "InvalidParameterValue")

    sqs.ok("DeleteQueue", {"QueueUrl": url})
    status, root = sqs.call("DeleteQueue", {"QueueUrl": url})
    check(status == 400 and text(root.find(NS + "Error"), "Code") == "AWS.SimpleQueueService.NonExistentQueue", "DeleteQueue twice")
    check(sqs.ok("ListQueues", {"QueueNamePrefix": "legacy"}).findall(NS + "QueueUrl") == [], "the queue is gone")
    print("sqs_query: all checks passed")


if __name__ == "__main__":
    main()
