"""A key-value store over TCP for the ranks of one job (torch.distributed.TCPStore's role): rendezvous,
and the transport of the store collectives (store_collectives.py).

One process (rank 0, or whichever passes is_master=True) serves; every rank, the server's included, is a
client over its own connection. Values are bytes. get() blocks until the key exists or the timeout passes;
add() is an atomic counter. The wire format is plain framing, never pickle: a request is
op (1 byte) | key length (4) | key | value length (8) | value, a reply is status (1) | length (8) | payload.
"""
import socket
import struct
import threading
import time

_SET, _GET, _ADD, _DELETE, _CHECK = range(5)
_OK, _TIMEOUT, _ERROR = range(3)
_REQUEST = struct.Struct("!BI")
_LENGTH = struct.Struct("!Q")
_REPLY = struct.Struct("!BQ")


def _recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ConnectionError("the peer closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


class _Server:
    """The store's data and its serving threads: one thread per client connection."""

    def __init__(self, host, port):
        self.data = {}
        self.cond = threading.Condition()
        try:
            self.sock = socket.create_server((host, port), reuse_port=False)
        except OSError as e:
            raise RuntimeError(f"TCPStore: could not serve the store at {host}:{port} ({e}); expected the port to be "
                               "free (another job, or a second process started as rank 0, holds it)") from None
        self.port = self.sock.getsockname()[1]
        self.closed = False
        self.clients = set()  # accepted connections, closed with the server
        threading.Thread(target=self._accept, name="vt-store-accept", daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.cond:
                self.clients.add(conn)
            threading.Thread(target=self._serve, args=(conn,), name="vt-store-client", daemon=True).start()

    def _serve(self, conn):
        with conn:
            try:
                while True:
                    op, key_len = _REQUEST.unpack(_recv_exact(conn, _REQUEST.size))
                    key = _recv_exact(conn, key_len).decode()
                    (value_len,) = _LENGTH.unpack(_recv_exact(conn, _LENGTH.size))
                    value = _recv_exact(conn, value_len)
                    try:
                        status, payload = self._handle(op, key, value)
                    except Exception as e:  # noqa: BLE001 - a bad request gets an error reply, the server goes on
                        status, payload = _ERROR, f"TCPStore: request on key {key!r} failed: {e}".encode()
                    conn.sendall(_REPLY.pack(status, len(payload)) + payload)
            except (ConnectionError, OSError):
                return
            finally:
                with self.cond:
                    self.clients.discard(conn)
                    self.cond.notify_all()

    def _handle(self, op, key, value):
        with self.cond:
            if op == _SET:
                self.data[key] = value
                self.cond.notify_all()
                return _OK, b""
            if op == _GET:  # value: the timeout in seconds, as text
                deadline = time.monotonic() + min(float(value.decode()), 1e9)  # Condition.wait overflows past that
                while key not in self.data:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return _TIMEOUT, b""
                    self.cond.wait(left)
                return _OK, self.data[key]
            if op == _ADD:
                total = int(self.data.get(key, b"0")) + int(value.decode())
                self.data[key] = str(total).encode()
                self.cond.notify_all()
                return _OK, self.data[key]
            if op == _DELETE:
                return _OK, b"1" if self.data.pop(key, None) is not None else b"0"
            if op == _CHECK:
                return _OK, b"1" if key in self.data else b"0"
        return _ERROR, f"unknown store request {op}".encode()

    def stop_listening(self):
        """Accepts no new connection; those already open are served until close()."""
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept thread: close alone leaves it listening
        except OSError:
            pass
        self.sock.close()

    def close(self, linger=5.0):
        """Stops serving: waits up to `linger` seconds for the clients to hang up (a reply may still be on its
        way to one), then closes the listening socket and every connection left."""
        self.closed = True
        deadline = time.monotonic() + linger
        with self.cond:
            while self.clients and time.monotonic() < deadline:
                self.cond.wait(0.05)
            clients, self.clients = list(self.clients), set()
        for sock in [self.sock] + clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked on it: close alone leaves it listening
            except OSError:
                pass
            sock.close()


class TCPStore:
    """TCPStore(host, port, world_size=None, is_master=False, timeout=300.0): the client of a store, and its
    server when is_master (port 0 picks a free one: read it back from .port). A client retries its connection
    until the timeout, so ranks may start in any order."""

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=300.0, wait_for_workers=False):
        self.host, self.world_size = host_name, world_size
        self.timeout = float(timeout.total_seconds() if hasattr(timeout, "total_seconds") else timeout)
        self._server = _Server(host_name, port) if is_master else None
        self.port = self._server.port if self._server else int(port)
        self._lock = threading.Lock()  # one request at a time on this connection
        self._sock = self._connect()

    def _connect(self):
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as e:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"TCPStore: could not reach the store at {self.host}:{self.port} within "
                                       f"{self.timeout:g} s ({e}); expected the master rank to serve it there "
                                       "(MASTER_ADDR / MASTER_PORT)") from None
                time.sleep(0.05)

    def _request(self, op, key, value=b""):
        k = key.encode()
        with self._lock:
            try:
                self._sock.sendall(_REQUEST.pack(op, len(k)) + k + _LENGTH.pack(len(value)) + value)
                status, n = _REPLY.unpack(_recv_exact(self._sock, _REPLY.size))
                payload = _recv_exact(self._sock, n)
            except (ConnectionError, OSError) as e:
                raise RuntimeError(f"TCPStore: lost the store at {self.host}:{self.port} ({e}); the master rank's "
                                   "process has probably exited") from None
        if status == _ERROR:
            raise RuntimeError(payload.decode())
        return status, payload

    def set(self, key, value):
        self._request(_SET, key, value.encode() if isinstance(value, str) else bytes(value))

    def get(self, key, timeout=None):
        """The value of key, waiting for it up to `timeout` seconds (the store's by default)."""
        wait = self.timeout if timeout is None else float(timeout)
        status, payload = self._request(_GET, key, repr(wait).encode())
        if status == _TIMEOUT:
            raise TimeoutError(f"TCPStore: key {key!r} was not set within {wait:g} s")
        return payload

    def add(self, key, amount):
        return int(self._request(_ADD, key, str(int(amount)).encode())[1])

    def delete_key(self, key):
        return self._request(_DELETE, key)[1] == b"1"

    def check(self, keys):
        return all(self._request(_CHECK, k)[1] == b"1" for k in keys)

    def stop_serving(self):
        """The master stops accepting connections, before close(): a client that connects to this host and port
        afterwards reaches the next store served there, never this one (Note [Leaving a group])."""
        if self._server:
            self._server.stop_listening()

    def close(self):
        self._sock.close()
        if self._server:
            self._server.close()
