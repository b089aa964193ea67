#!/usr/bin/env python3
"""Drives headless Chromium against a running `dsguard demo` and checks the status page.

Usage: page_check.py BASE_URL ARTIFACT_DIR

Asserts, against the demo scenario (crates/dsguard-sim/scenarios/demo.yaml): the page loads with
no console error; worker-3's row turns `stranded` within 5 s of the API reporting the node
unreachable; the DaemonSetPodsStranded alert appears; then worker-5's storage-agent cell turns
`pending` with "Insufficient cpu", its DaemonSetPodUnreplaced alert fires and worker-3's incident
closes. Saves screenshots to ARTIFACT_DIR and prints their paths.
Fails (non-zero) if Chromium, chromedriver or selenium is missing: CI installs them.
"""

import json
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMEDRIVER = "/usr/bin/chromedriver"
# Without the background-networking flags Chromium reaches out to Google at start, which a
# closed network refuses.
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
]
STRANDED_WITHIN = 5.0


def api(base, path):
    with urllib.request.urlopen(base + path, timeout=5) as response:
        return json.load(response)


def wait(what, predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception:  # the page or the API is between two states
            value = None
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def browser(profile):
    options = webdriver.ChromeOptions()
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def shot(driver, artifacts, name):
    path = f"{artifacts}/{name}.png"
    driver.save_screenshot(path)
    print(f"screenshot: {path}", flush=True)


def node_health(base, node):
    return api(base, f"/api/v1/nodes/{node}").get("health")


def check(driver, base, artifacts):
    wait("dsguard to serve", lambda: api(base, "/api/v1/matrix"), 30)
    driver.get(base + "/")
    wait("the page's first render", lambda: driver.find_element(By.CSS_SELECTOR, "body[data-loaded=true]"), 10)
    assert driver.title == "dsguard", driver.title
    errors = console_errors(driver)
    assert not errors, f"console errors on load: {errors}"
    shot(driver, artifacts, "page-1-loaded")

    wait("the API to show worker-3 unreachable", lambda: node_health(base, "worker-3") == "unreachable", 60, 0.05)
    seen = time.monotonic()
    row = 'tr[data-node="worker-3"] td[data-state="stranded"]'
    wait("worker-3's row to turn stranded", lambda: len(driver.find_elements(By.CSS_SELECTOR, row)) == 3, STRANDED_WITHIN)
    print(f"worker-3 stranded on the page {time.monotonic() - seen:.2f}s after the API showed it unreachable", flush=True)

    alert = '#alerts tr[data-alert="DaemonSetPodsStranded"]'
    wait("the DaemonSetPodsStranded alert", lambda: driver.find_elements(By.CSS_SELECTOR, alert), 30)
    wait("worker-3's incident", lambda: driver.find_elements(By.CSS_SELECTOR, '#incidents .incident[data-node="worker-3"]'), 5)
    shot(driver, artifacts, "page-2-stranded")

    pending = 'tr[data-node="worker-5"] td[data-state="pending"]'

    def unschedulable():
        for cell in driver.find_elements(By.CSS_SELECTOR, pending):
            title = cell.get_attribute("title")
            if "storage-agent" in title and "Insufficient cpu" in title:
                return cell
        return None

    cell = wait("worker-5's storage-agent cell: pending, Insufficient cpu", unschedulable, 60)
    cell.click()
    wait("the cell's details", lambda: "Insufficient cpu" in driver.find_element(By.ID, "detail").text, 5)
    shot(driver, artifacts, "page-3-pending")

    unreplaced = '#alerts tr[data-alert="DaemonSetPodUnreplaced"][data-node="worker-5"][data-state="firing"]'
    wait("the DaemonSetPodUnreplaced alert to fire", lambda: driver.find_elements(By.CSS_SELECTOR, unreplaced), 30)
    wait("worker-3's incident to close", lambda: "closed at" in driver.find_element(By.CSS_SELECTOR, '#incidents .incident[data-node="worker-3"]').text, 30)
    driver.set_window_size(1400, 1300)  # tall enough for the incident timeline (docs/)
    shot(driver, artifacts, "page-4-unreplaced")

    driver.find_element(By.ID, "theme").click()
    time.sleep(0.3)
    shot(driver, artifacts, "page-5-theme-toggled")
    errors = console_errors(driver)
    assert not errors, f"console errors: {errors}"


def main():
    base, artifacts = sys.argv[1].rstrip("/"), sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="dsguard-chromium-") as profile:
        driver = browser(profile)
        try:
            check(driver, base, artifacts)
        except BaseException:
            shot(driver, artifacts, "page-failed")
            raise
        finally:
            driver.quit()
    print("page check passed", flush=True)


if __name__ == "__main__":
    main()
