#!/usr/bin/env python3
"""Seeded attribute-scope workload for `herald bench filter --scope MessageAttributes`.

Writes a policies file (groups "1", "100", "1000", "10000": the first N policies of one seeded
sequence) and an events file (one object of message attributes per line), shaped like
Benchmarks/FilterEngineBenchmarks' `Workload` (an order-events topic: selective policies on
customer, tags, source, type+region, with numeric, anything-but and exists keys mixed in).

usage: Benchmarks/attribute-workload.py [--seed 1] [--events 100000] OUT_DIR
       herald bench filter --scope MessageAttributes --policies OUT_DIR/attribute-policies.json \
           --events OUT_DIR/attribute-events.jsonl
The 10000/1 rate ratio is goal 5 of issue 12 (>= 20 %).
"""
import argparse
import json
import os
import random

EVENT_TYPES = [f"event_{i}" for i in range(50)]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1", "sa-east-1"]


def policy(r):
    keys = {}
    k = r.randrange(20)
    if k < 8:
        keys["customer"] = [f"customer-{r.randrange(5000)}"]
    elif k < 11:
        keys["customer"] = [{"prefix": f"customer-{100 + r.randrange(900)}"}]
    elif k < 13:
        keys["customer"] = [{"suffix": f"-{1000 + r.randrange(4000)}"}]
    elif k < 16:
        keys["tags"] = [f"tag{r.randrange(2000)}"]
    elif k < 18:
        keys["source"] = [{"equals-ignore-case": f"SRC-{r.randrange(3000)}"}]
    else:
        keys["type"] = [EVENT_TYPES[r.randrange(50)]]
        keys["region"] = [REGIONS[r.randrange(6)]]
    k = r.randrange(20)
    if k < 4:
        low = r.randrange(1000)
        keys["amount"] = [{"numeric": [">", low, "<=", low + 20]}]
    elif k == 4:
        keys["region"] = [{"anything-but": [REGIONS[r.randrange(6)]]}]
    elif k == 5:
        keys["priority"] = [{"exists": r.randrange(2) == 0}]
    return keys


def event(r):
    tags = [f"tag{r.randrange(2000)}" for _ in range(1 + r.randrange(3))]
    attributes = {
        "type": {"Type": "String", "Value": EVENT_TYPES[r.randrange(50)]},
        "customer": {"Type": "String", "Value": f"customer-{r.randrange(5000)}"},
        "region": {"Type": "String", "Value": REGIONS[r.randrange(6)]},
        "amount": {"Type": "Number", "Value": str(r.randrange(1000))},
        "tags": {"Type": "String.Array", "Value": json.dumps(tags, separators=(",", ":"))},
        "source": {"Type": "String", "Value": f"src-{r.randrange(3000)}"},
    }
    if r.randrange(2) == 0:
        attributes["priority"] = {"Type": "String", "Value": "high"}
    return attributes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("out", help="directory for attribute-policies.json and attribute-events.jsonl")
    args = parser.parse_args()
    r = random.Random(args.seed)
    policies = [policy(r) for _ in range(10_000)]
    groups = {str(n): policies[:n] for n in (1, 100, 1000, 10_000)}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "attribute-policies.json"), "w") as f:
        json.dump(groups, f, separators=(",", ":"))
    with open(os.path.join(args.out, "attribute-events.jsonl"), "w") as f:
        for _ in range(args.events):
            f.write(json.dumps(event(r), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
