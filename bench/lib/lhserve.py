"""One `lakehouse serve` for a benchmark driver: a free loopback port, a data dir in the
driver's temp dir, log level warn, no LAKEHOUSE_* variables from the caller's environment,
the log kept next to the data. Used by bench/compact, bench/cache and bench/rag."""

import os
import signal
import socket
import subprocess
import sys
import time

import requests


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(sess, url, proc, what, log, limit=60):
    """Polls url until it answers 200; exits the driver if proc dies or limit s pass."""
    deadline = time.time() + limit
    while True:
        try:
            if sess.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.time() > deadline:
            sys.exit(f"{os.path.basename(sys.argv[0])}: {what} did not start; see {log}")
        time.sleep(0.1)


class Server:
    """Starts at construction and waits for /health; stop() ends it with SIGTERM."""

    def __init__(self, binary, work, config=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(work, "server.log")
        self._log = open(self.log_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("LAKEHOUSE_")}
        env["LAKEHOUSE_LOG_LEVEL"] = "warn"
        cmd = [binary, "serve", "--data", os.path.join(work, "data"),
               "--listen", f"127.0.0.1:{self.port}"]
        if config is not None:
            cfg = os.path.join(work, "lakehouse.toml")
            with open(cfg, "w") as f:
                f.write(config)
            cmd += ["--config", cfg]
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.sess = requests.Session()
        wait_http(self.sess, f"{self.base}/health", self.proc, "the server", self.log_path)

    def stop(self):
        stop_process(self.proc)
        self._log.close()


def stop_process(p):
    """SIGTERM (closing its stdin first, for helpers that exit on EOF), then a kill after 30 s."""
    if p.poll() is None:
        if p.stdin:
            p.stdin.close()
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
