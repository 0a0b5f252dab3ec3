#!/usr/bin/env bash
# The real AWS CLI against Herald's SNS query API and SQS JSON API (run by
# IntegrationSQSAPITests.awsCLIDrivesTheSNSToSQSFanOut): the README's fan-out tour, with checks.
# Usage: Tests/Compatibility/sns_awscli.sh http://127.0.0.1:PORT
# Prints "sns_awscli: all checks passed" or exits non-zero with the failing check.
set -euo pipefail
endpoint="$1"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=""
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws_() { aws --endpoint-url "$endpoint" --output json "$@"; }
fail() { echo "sns_awscli: $*" >&2; exit 1; }

topic=$(aws_ sns create-topic --name cli-orders --query TopicArn --output text)
[ "$topic" = "arn:aws:sns:us-east-1:000000000000:cli-orders" ] || fail "create-topic answered '$topic'"
aws_ sqs create-queue --queue-name cli-big >/dev/null
aws_ sqs create-queue --queue-name cli-all >/dev/null
sub=$(aws_ sns subscribe --topic-arn "$topic" --protocol sqs --notification-endpoint arn:aws:sqs:us-east-1:000000000000:cli-big \
  --attributes '{"FilterPolicy":"{\"price\":[{\"numeric\":[\">=\",100]}]}","RawMessageDelivery":"true"}' --query SubscriptionArn --output text)
case "$sub" in "$topic":*) ;; *) fail "subscribe answered '$sub'";; esac
aws_ sns subscribe --topic-arn "$topic" --protocol sqs --notification-endpoint arn:aws:sqs:us-east-1:000000000000:cli-all >/dev/null
aws_ sns publish --topic-arn "$topic" --message cheap --message-attributes '{"price":{"DataType":"Number","StringValue":"20"}}' >/dev/null
id=$(aws_ sns publish --topic-arn "$topic" --message big --subject "Order 7" --message-attributes '{"price":{"DataType":"Number","StringValue":"250"}}' --query MessageId --output text)

big=$(aws_ sqs receive-message --queue-url "$endpoint/000000000000/cli-big" --wait-time-seconds 5 --max-number-of-messages 10 --message-attribute-names All)
[ "$(echo "$big" | python3 -c 'import json,sys; m=json.load(sys.stdin)["Messages"]; print(len(m), m[0]["Body"], m[0]["MessageAttributes"]["price"]["StringValue"])')" = "1 big 250" ] \
  || fail "cli-big (filtered, raw) got: $big"
all=$(aws_ sqs receive-message --queue-url "$endpoint/000000000000/cli-all" --wait-time-seconds 5 --max-number-of-messages 10)
echo "$all" | python3 -c '
import json, sys
bodies = [json.loads(m["Body"]) for m in json.load(sys.stdin)["Messages"]]
assert sorted(b["Message"] for b in bodies) == ["big", "cheap"], bodies
assert [b.get("Subject") for b in bodies if b["Message"] == "big"] == ["Order 7"], bodies
assert all(b["Type"] == "Notification" and b["SignatureVersion"] == "1" for b in bodies), bodies
' || fail "cli-all (enveloped) got: $all"
echo "$all" | grep -q "$id" || fail "the enveloped copy does not carry MessageId $id"

batch=$(aws_ sns publish-batch --topic-arn "$topic" --publish-batch-request-entries \
  'Id=one,Message=first,MessageAttributes={price={DataType=Number,StringValue=500}}' 'Id=two,Message=second')
[ "$(echo "$batch" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted(e["Id"] for e in d["Successful"]), len(d.get("Failed", [])))')" = "['one', 'two'] 0" ] \
  || fail "publish-batch answered: $batch"
more=$(aws_ sqs receive-message --queue-url "$endpoint/000000000000/cli-big" --wait-time-seconds 5 --max-number-of-messages 10)
[ "$(echo "$more" | python3 -c 'import json,sys; print([m["Body"] for m in json.load(sys.stdin)["Messages"]])')" = "['first']" ] \
  || fail "the batch's filtered copy: $more"
dup=$(aws_ sns publish-batch --topic-arn "$topic" --publish-batch-request-entries Id=same,Message=a Id=same,Message=b 2>&1 || true)
echo "$dup" | grep -q "BatchEntryIdsNotDistinct" || fail "duplicate batch ids were not refused: $dup"

aws_ sns list-topics --query 'Topics[].TopicArn' --output text | grep -q "$topic" || fail "list-topics lacks $topic"
[ "$(aws_ sns list-subscriptions-by-topic --topic-arn "$topic" --query 'length(Subscriptions)')" = "2" ] || fail "list-subscriptions-by-topic"
# A changed filter policy applies to the next message.
aws_ sns set-subscription-attributes --subscription-arn "$sub" --attribute-name FilterPolicy \
  --attribute-value '{"price":[{"numeric":[">=",1000]}]}'
aws_ sns publish --topic-arn "$topic" --message mid --message-attributes '{"price":{"DataType":"Number","StringValue":"500"}}' >/dev/null
aws_ sns publish --topic-arn "$topic" --message huge --message-attributes '{"price":{"DataType":"Number","StringValue":"2000"}}' >/dev/null
after=$(aws_ sqs receive-message --queue-url "$endpoint/000000000000/cli-big" --wait-time-seconds 5 --max-number-of-messages 10)
[ "$(echo "$after" | python3 -c 'import json,sys; print([m["Body"] for m in json.load(sys.stdin)["Messages"]])')" = "['huge']" ] \
  || fail "after set-subscription-attributes: $after"
[ "$(aws_ sns get-topic-attributes --topic-arn "$topic" --query Attributes.TopicArn --output text)" = "$topic" ] || fail "get-topic-attributes"

raw=$(aws_ sns get-subscription-attributes --subscription-arn "$sub" --query Attributes.RawMessageDelivery --output text)
[ "$raw" = "true" ] || fail "get-subscription-attributes RawMessageDelivery=$raw"
aws_ sns unsubscribe --subscription-arn "$sub"
[ "$(aws_ sns list-subscriptions-by-topic --topic-arn "$topic" --query 'length(Subscriptions)')" = "1" ] || fail "unsubscribe left the subscription"
err=$(aws_ sns publish --topic-arn arn:aws:sns:us-east-1:000000000000:cli-orders --message x --message-attributes '{"a":{"DataType":"Wrong","StringValue":"1"}}' 2>&1 || true)
echo "$err" | grep -q "InvalidParameterValue\|InvalidParameter" || fail "an invalid attribute type was not refused: $err"
# Dead-letter sources.
aws_ sqs create-queue --queue-name cli-dlq >/dev/null
aws_ sqs create-queue --queue-name cli-source --attributes \
  '{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:cli-dlq\",\"maxReceiveCount\":\"3\"}"}' >/dev/null
[ "$(aws_ sqs list-dead-letter-source-queues --queue-url "$endpoint/000000000000/cli-dlq" --query 'queueUrls[0]' --output text)" = "$endpoint/000000000000/cli-source" ] \
  || fail "list-dead-letter-source-queues: $(aws_ sqs list-dead-letter-source-queues --queue-url "$endpoint/000000000000/cli-dlq")"

bad=$(aws_ sns publish --topic-arn "$topic" --message x --subject "" 2>&1 || true)
echo "$bad" | grep -q "Invalid parameter: Subject" || fail "an empty subject was not refused: $bad"

# Tags on a topic and on a queue.
aws_ sns tag-resource --resource-arn "$topic" --tags Key=team,Value=payments Key=tier,Value=gold
aws_ sns untag-resource --resource-arn "$topic" --tag-keys tier
[ "$(aws_ sns list-tags-for-resource --resource-arn "$topic" --query 'Tags[].[Key,Value]' --output text)" = "$(printf 'team\tpayments')" ] \
  || fail "topic tags: $(aws_ sns list-tags-for-resource --resource-arn "$topic")"
aws_ sqs tag-queue --queue-url "$endpoint/000000000000/cli-all" --tags env=test,owner=herald
aws_ sqs untag-queue --queue-url "$endpoint/000000000000/cli-all" --tag-keys owner
[ "$(aws_ sqs list-queue-tags --queue-url "$endpoint/000000000000/cli-all" --query Tags.env --output text)" = "test" ] || fail "queue tags"
[ "$(aws_ sqs list-queue-tags --queue-url "$endpoint/000000000000/cli-all" --query Tags.owner --output text)" = "None" ] || fail "untag-queue"

aws_ sns delete-topic --topic-arn "$topic"
aws_ sns list-topics --query 'Topics[].TopicArn' --output text | grep -q "$topic" && fail "delete-topic left $topic"
echo "sns_awscli: all checks passed"
