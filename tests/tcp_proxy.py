"""A loopback TCP proxy for outage tests: the app connects to the database through it, and a test cuts it (every
connection closed, new ones refused, as a restarting database does) and restores it."""
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = 0  # chosen on first listen, kept across cuts
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = None
        self._listen()

    def _listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed: cut
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if listener is not self._listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    continue
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            self._close(s)

    def _close(self, s):
        with self._lock:
            self._open.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self):
        """Close every connection and refuse new ones until restore()."""
        with self._lock:
            listener, self._listener = self._listener, None
            sockets = list(self._open)
        try:
            listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        listener.close()
        for s in sockets:
            self._close(s)

    def restore(self):
        self._listen()

    def close(self):
        if self._listener is not None:
            self.cut()
