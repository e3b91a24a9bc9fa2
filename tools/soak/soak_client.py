#!/usr/bin/env python3
"""Mixed good and bad traffic against a running inferd for a fixed time, from N threads, each
checking every answer. Good requests are /classify of the bundled photos with their known top
label (from `inferd classify`, passed in); bad ones are each expected to get their exact status.
Prints one JSON line: counts per kind, wrong answers, lost requests (no answer / connection
error on a good request). Exit 1 when a good request was lost or wrong.
Usage: soak_client.py PORT SECONDS THREADS EXPECTED.json   (EXPECTED: {"images/1.jpg": "label", ...})"""
import http.client
import json
import socket
import sys
import threading
import time

PORT, SECONDS, THREADS = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
EXPECTED = json.load(open(sys.argv[4]))
IMAGES = {path: open(path, "rb").read() for path in EXPECTED}
FIRST = next(iter(IMAGES.values()))

# name -> (method, target, headers, body, expected status)
BAD = {
    "truncated_jpeg": ("POST", "/classify", {"Content-Type": "image/jpeg"}, FIRST[: len(FIRST) // 2], 400),
    "empty_body": ("POST", "/classify", {"Content-Type": "image/jpeg"}, b"", 400),
    "not_an_image": ("POST", "/classify", {"Content-Type": "image/jpeg"}, b"GIF89a" + bytes(range(256)) * 4, 400),
    "wrong_content_type": ("POST", "/classify", {"Content-Type": "text/plain"}, FIRST, 415),
    "unknown_model": ("POST", "/v1/models/nosuchmodel/classify", {"Content-Type": "image/jpeg"}, FIRST, 404),
    "malformed_kserve_json": ("POST", "/v2/models/squeezenet/infer", {"Content-Type": "application/json"},
                              b'{"inputs": [', 400),
    "wrong_method": ("GET", "/classify", {}, b"", 405),
}


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_kind, self.wrong, self.lost, self.examples = {}, 0, 0, []

    def add(self, kind, ok, detail=""):
        with self.lock:
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            if not ok:
                self.wrong += 1
                if len(self.examples) < 5:
                    self.examples.append(f"{kind}: {detail}")


def raw_garbage(counts):
    """Bytes that are not HTTP: the server must answer 400 or close, and stay up."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(b"\x16\x03\x01\x02\x00garbage that is not http\r\n\r\n")
        try:
            data = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            data = b""
    counts.add("raw_garbage", data == b"" or data.startswith(b"HTTP/1.1 400"), repr(data[:60]))


def worker(index, deadline, counts):
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    paths = list(IMAGES)
    bad_names = list(BAD)
    i, bad_sent = index, index
    while time.monotonic() < deadline:
        i += 1
        try:
            if i % 5 != 0:  # 4 good requests for every bad one
                path = paths[i % len(paths)]
                conn.request("POST", "/classify", IMAGES[path], {"Content-Type": "image/jpeg"})
                resp = conn.getresponse()
                body = resp.read()
                top = json.loads(body)[0]["label"] if resp.status == 200 else None
                counts.add("good", resp.status == 200 and top == EXPECTED[path], f"{path}: {resp.status} {body[:100]!r}")
            elif (bad_sent := bad_sent + 1) % (len(bad_names) + 1) == len(bad_names):
                raw_garbage(counts)
            else:
                name = bad_names[bad_sent % (len(bad_names) + 1)]
                method, target, headers, body, status = BAD[name]
                conn.request(method, target, body if method == "POST" else None, headers)
                resp = conn.getresponse()
                text = resp.read()
                counts.add(name, resp.status == status and b'"error"' in text, f"{resp.status} {text[:100]!r}")
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
        except (OSError, http.client.HTTPException, ValueError) as e:
            with counts.lock:
                counts.lost += 1
                if len(counts.examples) < 5:
                    counts.examples.append(f"lost: {e!r}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    conn.close()


def main():
    counts = Counts()
    deadline = time.monotonic() + SECONDS
    threads = [threading.Thread(target=worker, args=(t, deadline, counts)) for t in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"requests": sum(counts.by_kind.values()), "by_kind": counts.by_kind, "wrong": counts.wrong,
                      "lost": counts.lost, "examples": counts.examples}))
    sys.exit(1 if counts.wrong or counts.lost else 0)


if __name__ == "__main__":
    main()
