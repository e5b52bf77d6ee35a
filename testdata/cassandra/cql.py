#!/usr/bin/env python3
"""Tiny CQL client (native protocol v4, Python standard library only).

Used by cassandra.sh because cqlsh is not installed:
  cql.py [--host H] [--port P] [--timeout S] ping        -> prints release_version, exit 0 if CQL answers
  cql.py [--host H] [--port P] exec "STMT; STMT; ..."    -> runs statements, prints rows
  cql.py [--host H] [--port P] exec < file.cql           -> same, statements from stdin
Credentials for PasswordAuthenticator: env PVJOBS_CASSANDRA_USER / PVJOBS_CASSANDRA_PASSWORD
(default cassandra / cassandra). Exit status: 0 ok, 1 CQL error, 2 cannot connect.
"""
import ipaddress
import os
import socket
import struct
import sys
import uuid

VERSION = 0x04
OP_ERROR, OP_STARTUP, OP_READY, OP_AUTHENTICATE = 0x00, 0x01, 0x02, 0x03
OP_QUERY, OP_RESULT, OP_AUTH_RESPONSE, OP_AUTH_SUCCESS = 0x07, 0x08, 0x0F, 0x10
CONSISTENCY_ONE = 0x0001


class CQLError(Exception):
    pass


def _string(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


class Reader:
    def __init__(self, buf):
        self.buf, self.pos = buf, 0

    def take(self, n):
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def short(self):
        return struct.unpack(">H", self.take(2))[0]

    def string(self):
        return self.take(self.short()).decode()

    def bytes(self):
        n = self.int()
        return None if n < 0 else self.take(n)

    def option(self):
        tid = self.short()
        if tid == 0x0000:
            return ("custom", self.string())
        if tid in (0x0020, 0x0022):
            return (tid, self.option())
        if tid == 0x0021:
            return (tid, self.option(), self.option())
        if tid == 0x0030:
            self.string(), self.string()
            return (tid, [(self.string(), self.option()) for _ in range(self.short())])
        if tid == 0x0031:
            return (tid, [self.option() for _ in range(self.short())])
        return (tid,)


def decode(typ, b):
    if b is None:
        return "null"
    t = typ[0]
    if t in (0x0001, 0x000D):  # ascii, varchar
        return b.decode(errors="replace")
    if t in (0x0002, 0x0005, 0x000B):  # bigint, counter, timestamp (ms)
        return str(struct.unpack(">q", b)[0])
    if t == 0x0009:
        return str(struct.unpack(">i", b)[0])
    if t == 0x0013:
        return str(struct.unpack(">h", b)[0])
    if t == 0x0014:
        return str(struct.unpack(">b", b)[0])
    if t == 0x0004:
        return "true" if b != b"\x00" else "false"
    if t == 0x0007:
        return repr(struct.unpack(">d", b)[0])
    if t == 0x0008:
        return repr(struct.unpack(">f", b)[0])
    if t in (0x000C, 0x000F):  # uuid, timeuuid
        return str(uuid.UUID(bytes=b))
    if t == 0x0010:
        return str(ipaddress.ip_address(b))
    if t in (0x0020, 0x0022):  # list, set
        r = Reader(b)
        items = [decode(typ[1], r.bytes()) for _ in range(r.int())]
        return ("[%s]" if t == 0x0020 else "{%s}") % ", ".join(items)
    if t == 0x0021:  # map
        r = Reader(b)
        items = []
        for _ in range(r.int()):
            k = decode(typ[1], r.bytes())
            items.append("%s: %s" % (k, decode(typ[2], r.bytes())))
        return "{%s}" % ", ".join(items)
    return "0x" + b.hex()  # blob and everything else


class Conn:
    def __init__(self, host, port, timeout):
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            print("cql: cannot connect to %s:%d: %s" % (host, port, e), file=sys.stderr)
            sys.exit(2)
        self.sock.settimeout(timeout)
        op, body = self.request(OP_STARTUP, struct.pack(">H", 1) + _string("CQL_VERSION") + _string("3.0.0"))
        if op == OP_AUTHENTICATE:
            user = os.environ.get("PVJOBS_CASSANDRA_USER", "cassandra")
            password = os.environ.get("PVJOBS_CASSANDRA_PASSWORD", "cassandra")
            token = b"\x00" + user.encode() + b"\x00" + password.encode()
            op, body = self.request(OP_AUTH_RESPONSE, struct.pack(">i", len(token)) + token)
            if op != OP_AUTH_SUCCESS:
                raise CQLError("authentication failed (opcode %d)" % op)
        elif op != OP_READY:
            raise CQLError("unexpected STARTUP answer (opcode %d)" % op)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise CQLError("connection closed by server")
            buf += chunk
        return buf

    def request(self, opcode, body):
        self.sock.sendall(struct.pack(">BBhBi", VERSION, 0, 0, opcode, len(body)) + body)
        while True:
            _, _, stream, op, length = struct.unpack(">BBhBi", self._read(9))
            payload = self._read(length)
            if stream < 0:  # server event, not our answer
                continue
            if op == OP_ERROR:
                r = Reader(payload)
                code = r.int()
                raise CQLError("error 0x%04x: %s" % (code, r.string()))
            return op, payload

    def query(self, cql):
        q = cql.encode()
        op, body = self.request(OP_QUERY, struct.pack(">i", len(q)) + q + struct.pack(">HB", CONSISTENCY_ONE, 0))
        if op != OP_RESULT:
            raise CQLError("unexpected QUERY answer (opcode %d)" % op)
        r = Reader(body)
        kind = r.int()
        if kind != 0x0002:  # not Rows: void, set_keyspace, schema_change
            return None, []
        flags, ncols = r.int(), r.int()
        if flags & 0x0002:
            r.bytes()  # paging state: only the first page is printed
        global_spec = flags & 0x0001
        if global_spec:
            r.string(), r.string()
        cols = []
        for _ in range(ncols):
            if not global_spec:
                r.string(), r.string()
            cols.append((r.string(), r.option()))
        rows = [[decode(t, r.bytes()) for _, t in cols] for _ in range(r.int())]
        return [n for n, _ in cols], rows


def split_statements(text):
    """Split on ';' outside quotes; drop '--' and '//' line comments."""
    stmts, cur, quote, i = [], [], None, 0
    while i < len(text):
        c = text[i]
        if quote:
            cur.append(c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            cur.append(c)
        elif text.startswith("--", i) or text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif c == ";":
            stmts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    stmts.append("".join(cur))
    return [s.strip() for s in stmts if s.strip()]


def main(argv):
    host, port, timeout = "127.0.0.1", int(os.environ.get("PVJOBS_CASSANDRA_PORT", "9042")), 10.0
    while argv and argv[0].startswith("--"):
        opt, val, argv = argv[0], argv[1], argv[2:]
        if opt == "--host":
            host = val
        elif opt == "--port":
            port = int(val)
        elif opt == "--timeout":
            timeout = float(val)
        else:
            sys.exit("cql: unknown option " + opt)
    if not argv or argv[0] not in ("ping", "exec"):
        sys.exit(__doc__)
    try:
        conn = Conn(host, port, timeout)
        if argv[0] == "ping":
            _, rows = conn.query("SELECT release_version FROM system.local")
            print(rows[0][0])
            return 0
        text = " ".join(argv[1:]) if len(argv) > 1 and argv[1:] != ["-"] else sys.stdin.read()
        for stmt in split_statements(text):
            names, rows = conn.query(stmt)
            if names is not None:
                print(" | ".join(names))
                for row in rows:
                    print(" | ".join(row))
                print("(%d rows)" % len(rows))
    except (CQLError, OSError) as e:
        print("cql: %s" % e, file=sys.stderr)
        return 1 if isinstance(e, CQLError) else 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
