#!/usr/bin/env python3
"""Writes page views into Cassandra the way the original Python collector did,
with a second client (the DataStax Python driver), so pvjobs is checked
against rows that no Go code wrote.

The collector stored each page view in the row of its shard key
"YYYYMMDD.<account>" (UTC day) under a uuid.uuid1() column name, with
msgpack.packb(dict) as the value. This script does the same with a prepared
INSERT, one row per page view, and prints one JSON object per row on stdout
(key, uuid, unix_ns, packing, fields) for the Go test to compare against.

Rows (N = --rows, at least 3):
  0 .. N-3  packb(dict): msgpack 1.x defaults (str types, use_bin_type=True)
  N-2       packb(dict, use_bin_type=False): legacy raw strings, the format
            of msgpack-python before 1.0
  N-1       packb(dict) with None for title and referrer, non-ASCII text and a
            visitor_id

Usage (setup.sh installs cassandra-driver and msgpack into a venv):
  $(bash testdata/cassandra/python/setup.sh) write_rows.py \\
      --host 127.0.0.1 --port 9042 --keyspace KS [--table page_views] \\
      [--key-column key --ts-column column1 --value-column value] \\
      [--account pyclient] [--rows 50]
"""

import argparse
import datetime
import json
import sys
import uuid

import msgpack
from cassandra.cluster import Cluster
from cassandra.policies import RoundRobinPolicy

GREGORIAN_OFFSET = 0x01B21DD213814000  # 100 ns ticks from 1582-10-15 to 1970-01-01

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
]


def unix_ns(u):
    """Unix nanoseconds of a version-1 UUID."""
    return (u.time - GREGORIAN_OFFSET) * 100


def shard_key(u, account):
    day = datetime.datetime.fromtimestamp(unix_ns(u) // 1_000_000_000, tz=datetime.timezone.utc)
    return day.strftime("%Y%m%d") + "." + account


def page_view(i, n, account):
    pv = {
        "url": "https://%s.example.com/articles/%d?utm_source=news" % (account, i % 7),
        "title": "Article %d" % (i % 7),
        "ip": "203.0.113.%d" % (i % 250 + 1),
        "referrer": "https://www.google.com/search?q=article+%d" % i,
        "user_agent": AGENTS[i % len(AGENTS)],
        "language": "en-US,en;q=0.9",
    }
    if i == n - 1:
        pv.update({
            "title": None,
            "referrer": None,
            "url": "https://%s.example.com/caf\u00e9/\u65e5\u672c" % account,
            "language": "de-DE",
            "visitor_id": "v-%d" % i,
        })
    return pv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=9042)
    ap.add_argument("--keyspace", required=True)
    ap.add_argument("--table", default="page_views")
    ap.add_argument("--key-column", default="key")
    ap.add_argument("--ts-column", default="column1")
    ap.add_argument("--value-column", default="value")
    ap.add_argument("--account", default="pyclient")
    ap.add_argument("--rows", type=int, default=50)
    args = ap.parse_args()
    if args.rows < 3:
        ap.error("--rows must be at least 3")

    cluster = Cluster([args.host], port=args.port, protocol_version=4,
                      load_balancing_policy=RoundRobinPolicy())
    session = cluster.connect()
    insert = session.prepare('INSERT INTO "%s"."%s" ("%s", "%s", "%s") VALUES (?, ?, ?)' % (
        args.keyspace, args.table, args.key_column, args.ts_column, args.value_column))
    n = args.rows
    for i in range(n):
        ts = uuid.uuid1()
        pv = page_view(i, n, args.account)
        if i == n - 2:
            value, packing = msgpack.packb(pv, use_bin_type=False), "legacy-raw"
        else:
            value, packing = msgpack.packb(pv), "default"
        key = shard_key(ts, args.account)
        session.execute(insert, (key, ts, value))
        print(json.dumps({
            "key": key,
            "uuid": str(ts),
            "unix_ns": unix_ns(ts),
            "packing": packing,
            "fields": {k: ("" if v is None else v) for k, v in pv.items()},
        }, ensure_ascii=False))
    cluster.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
