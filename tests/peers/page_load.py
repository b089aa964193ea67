#!/usr/bin/env python3
"""Measures the status page against the simulator's 5,000-node cluster: load time and JS heap.

    cargo build --release
    python3 tests/peers/page_load.py target/release/dsguard [nodes=5000,daemonsets=20,fail=50]

Starts `dsguard sim --generate SPEC` (in real time: the failed workers turn unreachable at about
100 s and recover at 180 s) and `dsguard run` against it, waits until dsguard is ready and the
failures show (about two minutes), then for
the default view and for `rows=all` loads the page in headless Chromium and prints the time until
the first render (`body[data-loaded]`), the matrix response's size, the table rows and DOM
elements, and the JS heap after ten seconds of polling. Targets: interactive within 2 s, JS heap
within 150 MB.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from page_check import browser, console_errors, wait
from selenium.webdriver.common.by import By


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def measure(driver, base, fragment):
    size = len(get(f"{base}/api/v1/matrix?{fragment}"))
    driver.get("about:blank")  # a fresh load each time, not a fragment change
    started = time.monotonic()
    driver.get(f"{base}/#{fragment}")
    wait("the first render", lambda: driver.find_elements(By.CSS_SELECTOR, "body[data-loaded=true]"), 30, 0.01)
    interactive = time.monotonic() - started
    time.sleep(10)
    metrics = {m["name"]: m["value"] for m in driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]}
    elements = driver.execute_script("return document.getElementsByTagName('*').length")
    rows = driver.execute_script("return document.querySelectorAll('#matrix tbody tr').length")
    print(
        f"view #{fragment or '(default)'}: interactive in {interactive:.2f}s; matrix response {size / 1024:.0f} KiB;"
        f" {rows} table rows, {elements} DOM elements; JS heap used {metrics['JSHeapUsedSize'] / 2**20:.1f} MiB"
        f" (total {metrics['JSHeapTotalSize'] / 2**20:.1f} MiB) after 10 s of polling",
        flush=True,
    )
    errors = console_errors(driver)
    assert not errors, errors


def main():
    binary = os.path.abspath(sys.argv[1])
    spec = sys.argv[2] if len(sys.argv) > 2 else "nodes=5000,daemonsets=20,fail=50"
    with tempfile.TemporaryDirectory(prefix="dsguard-page-load-") as tmp:
        kubeconfig = os.path.join(tmp, "kubeconfig")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        sim = subprocess.Popen([binary, "sim", "--generate", spec, "--speed", "1", "--kubeconfig-out", kubeconfig],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run = None
        try:
            wait("the simulator's kubeconfig", lambda: os.path.exists(kubeconfig), 60)
            run = subprocess.Popen([binary, "run", "--kubeconfig", kubeconfig, "--listen", f"127.0.0.1:{port}"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait("dsguard to be ready", lambda: get(f"{base}/readyz"), 120, 0.5)
            wait("the failed workers", lambda: json.loads(get(f"{base}/api/v1/matrix"))["cells"], 240, 0.5)
            m = json.loads(get(f"{base}/api/v1/matrix"))
            print(f"cluster: {m['total_nodes']} nodes, {len(m['daemonsets'])} DaemonSets, {m['matched_rows']} rows with gaps", flush=True)
            with tempfile.TemporaryDirectory(prefix="dsguard-chromium-") as profile:
                driver = browser(profile)
                try:
                    driver.execute_cdp_cmd("Performance.enable", {})
                    for fragment in ["", "rows=all"]:
                        measure(driver, base, fragment)
                finally:
                    driver.quit()
        finally:
            for process in [run, sim]:
                if process:
                    process.terminate()
                    process.wait()


if __name__ == "__main__":
    main()
