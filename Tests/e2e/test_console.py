"""The web console at /ui in a real headless Chromium (Debian's chromium and chromium-driver,
Selenium from PyPI, offline): every page loads without a console error and every input has a
label; a customer registered appears in the live tail within a second; a hostile name is shown
as text and runs nothing; the tail resumes without a gap after the server restarts; the
operations page skips a parked event. Screenshots of each page go to $TRIBUTARY_ARTIFACTS (or
the test's temporary directory)."""

import os
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from conftest import server_binary
from tributary_tools.server import Server   # scripts/ is on sys.path (conftest)

os.environ.setdefault("SE_OFFLINE", "true")   # never let Selenium Manager reach for the network
from selenium import webdriver   # noqa: E402
from selenium.common.exceptions import NoAlertPresentException   # noqa: E402
from selenium.webdriver.chrome.service import Service   # noqa: E402
from selenium.webdriver.common.by import By   # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait   # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


@pytest.fixture
def artifacts(tmp_path) -> Path:
    d = Path(os.environ.get("TRIBUTARY_ARTIFACTS", tmp_path / "artifacts"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def wait(driver, condition, timeout=10.0, what="the page"):
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: condition(d), message=f"waiting for {what}")


def register(base: str, name: str) -> str:
    cid = "c-" + uuid.uuid4().hex[:10]
    r = httpx.post(f"{base}/commands/customers/register", json={"customerId": cid, "name": name,
                   "email": f"{cid}@example.com", "creditLimit": 1000, "currency": "EUR"})
    assert r.status_code == 201, r.text
    return cid


def tail_events(driver) -> list[tuple[int, str]]:
    return [(int(li.get_attribute("data-position")), li.get_attribute("data-type"))
            for li in driver.find_elements(By.CSS_SELECTOR, "#events li")]


@pytest.fixture
def server(tmp_path):
    s = Server(server_binary(), "none", tmp_path / "data").start(ready_timeout=60)
    yield s
    s.kill()


def test_every_page_loads_without_a_console_error_and_every_input_has_a_label(server, browser, artifacts):
    register(server.url, "Ada Lovelace")
    for path, ready in (("/", "#components tr"), ("/ui/tail", "#types option"), ("/ui/operations", "#journal tr"),
                        ("/ui/no-such-page", "main h1")):
        browser.get(server.url + path)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ready), what=f"{path} to render")
        assert browser.current_url.startswith(server.url + "/ui/"), browser.current_url
        errors = console_errors(browser)
        assert not errors, f"{path}: {errors}"
        for field in browser.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
            fid = field.get_attribute("id")
            labelled = (fid and browser.find_elements(By.CSS_SELECTOR, f"label[for='{fid}']")) or \
                field.find_elements(By.XPATH, "ancestor::label") or field.get_attribute("aria-label")
            assert labelled, f"{path}: an input without a label: {field.get_attribute('outerHTML')}"
        browser.save_screenshot(str(artifacts / f"console-{path.strip('/').replace('/', '-') or 'dashboard'}.png"))
    assert "Not found" in browser.find_element(By.CSS_SELECTOR, "main h1").text
    # The dashboard is live: a new store position shows without a reload.
    browser.get(server.url + "/ui/")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-store='customers']"))
    before = browser.find_element(By.CSS_SELECTOR, "tr[data-store='customers'] td.num").text
    register(server.url, "Bob Live")
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "tr[data-store='customers'] td.num").text != before,
         what="the dashboard to update over its event stream")
    headers = httpx.get(server.url + "/ui/").headers
    assert "script-src 'self'" in headers["content-security-policy"] and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_a_registered_customer_appears_in_the_tail_within_a_second_and_a_hostile_name_is_text(server, browser, artifacts):
    browser.get(server.url + "/ui/tail")
    wait(browser, lambda d: d.find_element(By.ID, "connection").text == "live", what="the tail to connect")
    started = time.monotonic()
    cid = register(server.url, HOSTILE)
    item = wait(browser, lambda d: [li for li in d.find_elements(By.CSS_SELECTOR, "#events li[data-type='customer.registered']")
                                    if cid in li.get_attribute("textContent")], timeout=1.0, what="the registration in the tail")[0]
    assert time.monotonic() - started < 1.0
    item.find_element(By.TAG_NAME, "summary").click()
    shown = item.find_element(By.CSS_SELECTOR, "pre.json").text
    assert "<img src=x onerror=alert(1)>" in shown or "onerror" in shown, shown
    assert not browser.find_elements(By.CSS_SELECTOR, "#events img"), "the name was parsed as HTML"
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text
    assert not console_errors(browser)
    browser.save_screenshot(str(artifacts / "console-tail-hostile.png"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([str(server_binary()), "serve", "--listen", f"127.0.0.1:{port}", "--data", str(data),
                             "--durability", "fsync"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not become ready")


def test_the_tail_resumes_without_a_gap_after_the_server_restarts(tmp_path, browser):
    data, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(data, port)
    try:
        browser.get(base + "/ui/tail")
        wait(browser, lambda d: d.find_element(By.ID, "connection").text == "live", what="the tail to connect")
        register(base, "Before Restart")
        wait(browser, lambda d: len(tail_events(d)) == 1, what="the first event")
        proc.terminate()
        proc.wait(timeout=15)
        wait(browser, lambda d: d.find_element(By.ID, "connection").text != "live", what="the tail to notice")
        proc = serve(data, port)
        # Written before the browser reconnects: it gets them by resuming after its last id.
        for i in range(3):
            register(base, f"After Restart{i}")
        events = wait(browser, lambda d: len(tail_events(d)) >= 4 and tail_events(d), timeout=15, what="the resumed events")
        positions = sorted(p for p, _ in events)
        assert positions == list(range(positions[0], positions[0] + 4)), f"a gap or a repeat: {positions}"
        assert not console_errors(browser) or all("streams/public" in e["message"] for e in console_errors(browser))
    finally:
        proc.kill()


def test_the_operations_page_skips_a_parked_event(tmp_path, browser, artifacts):
    server = Server(server_binary(), "none", tmp_path / "data",
                    env={"TRIBUTARY_INJECT_FAULT": "component=customers-credit,match=o-poison-"}).start(ready_timeout=60)
    try:
        cid = register(server.url, "Pat Parked")
        r = httpx.get(f"{server.url}/queries/orders", params={"minPosition": "public:1", "limit": 1})
        assert r.status_code == 200, r.text
        oid = "o-poison-" + uuid.uuid4().hex[:8]
        r = httpx.post(f"{server.url}/commands/orders/place", json={"orderId": oid, "customerId": cid, "currency": "EUR",
                                                                   "lines": [{"sku": "A", "quantity": 1, "unitPrice": 100}]})
        assert r.status_code == 201, r.text
        browser.get(server.url + "/ui/operations")
        row = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#parked tr[data-position]"), what="the parked event")[0]
        assert oid in row.text and "injected fault" in row.text
        row.find_element(By.XPATH, ".//button[text()='Skip']").click()
        assert "Say why first" in wait(browser, lambda d: d.find_element(By.ID, "message").text, what="the refusal")
        browser.find_element(By.ID, "reason").send_keys("refunded by hand")
        browser.find_element(By.CSS_SELECTOR, "#parked tr[data-position] button.secondary").click()
        wait(browser, lambda d: "parked-event-skipped" in d.find_element(By.ID, "message").text, what="the skip")
        wait(browser, lambda d: "refunded by hand" in d.find_element(By.ID, "journal").text, what="the journal entry")
        assert httpx.get(f"{server.url}/admin/parked").json()["count"] == 0
        assert not console_errors(browser)
        browser.save_screenshot(str(artifacts / "console-operations.png"))
    finally:
        server.kill()
