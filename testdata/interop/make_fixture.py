#!/usr/bin/env python3
"""Writes 20240801.pyacct.mpk: a shard file made the way the original Python
collector made its rows, so the Go reader is checked against bytes that no Go
encoder produced.

How to run it (msgpack must not be installed into the repository):

    python3 -m venv /tmp/pyvenv
    /tmp/pyvenv/bin/pip install msgpack        # written with msgpack 1.x
    /tmp/pyvenv/bin/python testdata/interop/make_fixture.py

It writes testdata/interop/20240801.pyacct.mpk next to itself and prints one
line per row. The output is byte-for-byte reproducible: the column names are
real uuid.uuid1() values taken with the clock pinned to chosen instants, and
every value is fixed. The Go test readers/file/interop_test.go asserts the
decoded fields and times row by row; change both together.

The collector stored each page view as msgpack.packb(dict) in Cassandra's
value blob and the row's uuid1() as its column name. A shard file holds the
concatenation of msgpack.packb([ts_bytes, value_bytes], use_bin_type=True) for
the rows of one day in time order (see readers/file).

Rows (UTC times on 2024-08-01):
  0 00:00:00          packb(dict): fixstr keys and values
  1 00:00:01.5        packb(dict, use_bin_type=False): legacy raw strings
                      (fixraw, and raw16 for a 200-byte user agent, since the
                      old format has no str8)
  2 01:02:03.4567891  packb(dict, use_bin_type=True) with user_agent as bytes
                      (bin8), a 300-character title (str16), non-ASCII text
  3 12:00:00.0000001  a 19-key map (map16): unknown keys with int, float,
                      bool, nil, list, dict values; an int key and an array key;
                      visitor_id set
  4 23:59:59.9999999  None values for title, referrer and language; no
                      visitor_id; the last instant of the day
"""

import datetime
import os
import sys
import uuid
from unittest import mock

import msgpack

GREGORIAN_OFFSET = 0x01B21DD213814000  # 100 ns ticks from 1582-10-15 to 1970-01-01
CLOCK_SEQ = 0x1234
NODE = 0x0123456789AB
DAY = datetime.datetime(2024, 8, 1, tzinfo=datetime.timezone.utc)

UA_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
UA_LONG = "Mozilla/5.0 (X11; Linux x86_64) " + "Gecko/20100101 Firefox/128.0 " * 6
UA_LONG = UA_LONG[:200]


def unix_ns(offset_ns):
    """Unix nanoseconds of DAY plus offset_ns."""
    return int(DAY.timestamp()) * 1_000_000_000 + offset_ns


def uuid1_at(ns):
    """Returns uuid.uuid1() as the collector would have taken it at Unix time ns."""
    # uuid1 never repeats a timestamp within a process; reset its memory so
    # each call uses exactly the pinned clock.
    uuid._last_timestamp = None
    with mock.patch("time.time_ns", return_value=ns):
        u = uuid.uuid1(node=NODE, clock_seq=CLOCK_SEQ)
    # The same UUID built from its fields, as a check of the layout.
    ticks = ns // 100 + GREGORIAN_OFFSET
    want = uuid.UUID(
        fields=(
            ticks & 0xFFFFFFFF,
            (ticks >> 32) & 0xFFFF,
            (ticks >> 48) & 0x0FFF | 0x1000,
            (CLOCK_SEQ >> 8) & 0x3F | 0x80,
            CLOCK_SEQ & 0xFF,
            NODE,
        )
    )
    assert u == want and u.version == 1 and u.time == ticks, (u, want)
    return u


def rows():
    r0 = msgpack.packb(
        {
            "url": "https://py.example.com/",
            "title": "Home",
            "ip": "203.0.113.7",
            "referrer": "",
            "user_agent": "curl/8.5.0",
            "language": "en-US",
        }
    )
    r1 = msgpack.packb(
        {
            "url": "http://py.example.com/legacy?utm_source=x&id=7",
            "title": "Legacy raw",
            "ip": "198.51.100.23",
            "referrer": "https://www.google.com/",
            "user_agent": UA_LONG,
            "language": "de-DE",
        },
        use_bin_type=False,
    )
    r2 = msgpack.packb(
        {
            "url": "https://py.example.com/caf\u00e9/\u65e5\u672c",
            "title": "T" * 299 + "\u00e9",
            "ip": "2001:db8::1",
            "referrer": "https://duckduckgo.com/",
            "user_agent": UA_CHROME.encode("ascii"),
            "language": "ja-JP",
        },
        use_bin_type=True,
    )
    r3 = msgpack.packb(
        {
            "url": "https://py.example.com/map16",
            "title": "Sixteen",
            "ip": "192.0.2.1",
            "referrer": "https://t.co/abc",
            "user_agent": UA_CHROME,
            "language": "fr-FR",
            "visitor_id": "v0123456789abcdef",
            "screen": "1920x1080",
            "width": 1920,
            "height": -1,
            "ratio": 1.5,
            "dnt": True,
            "gdpr": None,
            "tags": ["a", 1, None, ["nested"]],
            "extra": {"k": "v", "n": {"deep": [1, 2, 3]}},
            "empty": "",
            "bytes": b"\x00\xff",
            42: "int key",
            (1, 2): "array key",
        }
    )
    r4 = msgpack.packb(
        {
            "url": "https://py.example.com/last",
            "title": None,
            "ip": "203.0.113.8",
            "referrer": None,
            "user_agent": "Wget/1.21",
            "language": None,
        }
    )
    offsets = [
        0,
        1_500_000_000,
        3_723_456_789_100,
        12 * 3600 * 10**9 + 100,
        24 * 3600 * 10**9 - 100,
    ]
    for off, value in zip(offsets, [r0, r1, r2, r3, r4]):
        yield uuid1_at(unix_ns(off)), value


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "20240801.pyacct.mpk")
    data = bytearray()
    for i, (u, value) in enumerate(rows()):
        off = len(data)
        data += msgpack.packb([u.bytes, value], use_bin_type=True)
        print(f"row {i} byte {off}: {u} value {len(value)} bytes, starts 0x{value[0]:02x}")
    with open(out, "wb") as f:
        f.write(data)
    print(f"wrote {out}: {len(data)} bytes, msgpack {msgpack.version}", file=sys.stderr)


if __name__ == "__main__":
    main()
