"""The web console at /ui in a real headless Chromium (Debian's chromium and chromium-driver,
Selenium from PyPI, offline): every page loads without a console error and every input has a
label; a customer registered through the console appears in the live tail and the customers
list within a second (and a problem+json's errors show at their fields); placing an order shows
its saga trace placed → credit-reserved → approved; a hostile name is shown as text and runs
nothing; the tail resumes without a gap after the server restarts; the operations page skips a
parked event; the console's YAML reader reads the specs as PyYAML does. Screenshots of each page go to $TRIBUTARY_ARTIFACTS (or
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
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException   # noqa: E402
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
    # Live pages redraw their rows as events arrive: an element found a moment ago may be gone.
    return WebDriverWait(driver, timeout, poll_frequency=0.05, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: condition(d), message=f"waiting for {what}")


def click(driver, css, what):
    """Clicks the element `css` names, finding it again if a redraw replaced it."""
    def attempt(d):
        d.find_element(By.CSS_SELECTOR, css).click()
        return True
    wait(driver, attempt, what=what)


def register(base: str, name: str) -> str:
    cid = "c-" + uuid.uuid4().hex[:10]
    r = httpx.post(f"{base}/commands/customers/register", json={"customerId": cid, "name": name,
                   "email": f"{cid}@example.com", "creditLimit": 1000, "currency": "EUR"})
    assert r.status_code == 201, r.text
    return cid


def place(base: str, cid: str) -> str:
    oid = "o-" + uuid.uuid4().hex[:10]
    r = httpx.get(f"{base}/queries/orders", params={"minPosition": f"public:{public_last(base)}", "limit": 1})
    assert r.status_code == 200, r.text
    r = httpx.post(f"{base}/commands/orders/place", json={"orderId": oid, "customerId": cid, "currency": "EUR",
                                                          "lines": [{"sku": "BOOK-1", "quantity": 1, "unitPrice": 100}]})
    assert r.status_code == 201, r.text
    deadline = time.monotonic() + 10
    while httpx.get(f"{base}/queries/orders/{oid}").json().get("status") != "approved":
        assert time.monotonic() < deadline, "the saga did not approve the order"
        time.sleep(0.05)
    return oid


def public_last(base: str) -> int:
    return httpx.get(f"{base}/public/events", params={"limit": 1}).json()["lastPosition"]


def tail_events(driver) -> list[tuple[int, str]]:
    return [(int(li.get_attribute("data-position")), li.get_attribute("data-type"))
            for li in driver.find_elements(By.CSS_SELECTOR, "#events li")]


@pytest.fixture
def server(tmp_path):
    s = Server(server_binary(), "none", tmp_path / "data").start(ready_timeout=60)
    yield s
    s.kill()


def test_every_page_loads_without_a_console_error_and_every_input_has_a_label(server, browser, artifacts):
    cid = register(server.url, "Ada Lovelace")
    oid = place(server.url, cid)
    pages = (("/", "#components tr"), ("/ui/tail", "#types option"), ("/ui/operations", "#journal tr"),
             ("/ui/customers", "#rows tr[data-id]"), ("/ui/orders?status=approved", "#rows tr[data-id]"),
             (f"/ui/customers/{cid}", "#history tr"), (f"/ui/orders/{oid}", "#history tr"),
             ("/ui/streams", "#streams tr[data-stream]"), (f"/ui/streams/orders/order-{oid}", "#stream-events tr"),
             (f"/ui/trace/{oid}", "#trace tr"), ("/ui/commands", "form.command"), ("/ui/api", "details.operation"),
             ("/ui/no-such-page", "main h1"))
    for path, ready in pages:
        browser.get(server.url + path)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ready), what=f"{path} to render")
        assert browser.current_url.startswith(server.url + "/ui/"), browser.current_url
        errors = console_errors(browser)
        assert not errors, f"{path}: {errors}"
        # In the page, at one moment (live pages redraw while a test looks): every control's labels.
        unlabelled = browser.execute_script("""
            return [...document.querySelectorAll("input, select, textarea")]
              .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute("aria-label"))
              .map((c) => c.outerHTML);""")
        assert not unlabelled, f"{path}: inputs without a label: {unlabelled}"
        browser.save_screenshot(str(artifacts / f"console-{path.strip('/').replace('/', '-') or 'dashboard'}.png"))
    assert "Not found" in browser.find_element(By.CSS_SELECTOR, "main h1").text
    # A phone's width: every page fits (tables scroll inside their own box, the menu wraps).
    browser.set_window_size(390, 844)
    for path, ready in pages:
        browser.get(server.url + path)
        wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ready), what=f"{path} to render on a phone")
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} is {overflow}px wider than a phone's screen"
    browser.save_screenshot(str(artifacts / "console-phone.png"))
    browser.set_window_size(1280, 900)
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


def test_a_customer_registered_through_the_console_shows_in_the_tail_and_the_list_within_a_second(server, browser, artifacts):
    browser.get(server.url + "/ui/tail")
    wait(browser, lambda d: d.find_element(By.ID, "connection").text == "live", what="the tail to connect")
    tail_tab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(server.url + "/ui/commands/customers/register")
    form = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "form.command"), what="the register form")[0]
    # A problem+json answer lands at the fields it names.
    browser.find_element(By.NAME, "name").send_keys("Grace Hopper")
    browser.find_element(By.NAME, "email").send_keys("not an email")
    browser.find_element(By.NAME, "creditLimit").send_keys("1000")
    browser.find_element(By.NAME, "currency").send_keys("EUR")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    email = browser.find_element(By.NAME, "email")
    wait(browser, lambda d: email.get_attribute("aria-invalid") == "true", what="the email field's error")
    assert browser.find_element(By.ID, f"{email.get_attribute('id')}-error").text, "no message at the field"
    cid = "c-" + uuid.uuid4().hex[:8]
    browser.find_element(By.NAME, "customerId").send_keys(cid)
    email.clear()
    email.send_keys(f"{cid}@example.com")
    started = time.monotonic()
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#answer .message").text.startswith("201"), what="201 Created")
    browser.save_screenshot(str(artifacts / "console-commands.png"))
    browser.switch_to.window(tail_tab)
    wait(browser, lambda d: [li for li in d.find_elements(By.CSS_SELECTOR, "#events li[data-type='customer.registered']")
                             if cid in li.get_attribute("textContent")], timeout=1.0, what="the registration in the tail")
    assert time.monotonic() - started < 1.5
    browser.get(server.url + "/ui/customers")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f"#rows tr[data-id='{cid}']"), timeout=2, what="the customer in the list")
    # The 422 the test asked for is logged by the browser as a failed load; nothing else may be.
    assert [e for e in console_errors(browser) if "status of 422" not in e["message"]] == []


def test_placing_an_order_through_the_console_shows_its_saga_trace(server, browser, artifacts):
    cid = register(server.url, "Tracy Trace")
    httpx.get(f"{server.url}/queries/orders", params={"minPosition": f"public:{public_last(server.url)}", "limit": 1})
    oid = "o-" + uuid.uuid4().hex[:8]
    browser.get(server.url + "/ui/commands/orders/place")
    form = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "form.command"), what="the place form")[0]
    for name, value in (("orderId", oid), ("customerId", cid), ("currency", "EUR"), ("lines[0].sku", "BOOK-1"),
                        ("lines[0].quantity", "2"), ("lines[0].unitPrice", "150")):
        browser.find_element(By.NAME, name).send_keys(value)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#answer .message").text.startswith("201"), what="201 Created")
    deadline = time.monotonic() + 10
    while httpx.get(f"{server.url}/queries/orders/{oid}").json().get("status") != "approved":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    browser.get(f"{server.url}/ui/trace/{oid}")
    chain = wait(browser, lambda d: d.find_element(By.ID, "chain").text, what="the trace")
    assert "order.placed → customer.credit-reserved → order.approved" in chain, chain
    rows = browser.find_elements(By.CSS_SELECTOR, "#trace tr")
    assert [r.get_attribute("data-type") for r in rows] == ["OrderPlaced", "order.placed", "CreditReserved",
                                                             "customer.credit-reserved", "OrderApproved", "order.approved"]
    assert all(r.find_elements(By.XPATH, "td[5]") for r in rows[1:])
    assert not console_errors(browser)
    browser.save_screenshot(str(artifacts / "console-trace.png"))


def test_the_consoles_yaml_reader_reads_the_specs_as_pyyaml_does(server, browser):
    import json
    import yaml
    browser.get(server.url + "/ui/api")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "details.operation"), what="the reference")
    for name in ("api.yaml", "public-events.yaml"):
        read = browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            import("/ui/yaml.js").then(async (m) => done(JSON.stringify(m.parseYAML(await (await fetch("/openapi/" + arguments[0])).text()))))
              .catch((e) => done("ERROR " + e));""", name)
        assert not read.startswith("ERROR"), read
        expected = yaml.safe_load((Path(__file__).resolve().parents[2] / "openapi" / name).read_text())
        assert json.loads(read) == json.loads(json.dumps(expected, default=str)), name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data: Path, port: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen([str(server_binary()), "serve", "--listen", f"127.0.0.1:{port}", "--data", str(data),
                             "--durability", "fsync", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        text = wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#parked tr[data-position]").text, what="the parked event")
        assert oid in text and "injected fault" in text
        click(browser, "#parked tr[data-position] button.secondary", "the Skip button")
        assert "Say why first" in wait(browser, lambda d: d.find_element(By.ID, "message").text, what="the refusal")
        browser.find_element(By.ID, "reason").send_keys("refunded by hand")
        click(browser, "#parked tr[data-position] button.secondary", "the Skip button")
        wait(browser, lambda d: "parked-event-skipped" in d.find_element(By.ID, "message").text, what="the skip")
        wait(browser, lambda d: "refunded by hand" in d.find_element(By.ID, "journal").text, what="the journal entry")
        assert httpx.get(f"{server.url}/admin/parked").json()["count"] == 0
        assert not console_errors(browser)
        browser.save_screenshot(str(artifacts / "console-operations.png"))
    finally:
        server.kill()


def test_with_tokens_the_console_asks_for_one_and_its_streams_survive_a_restart(tmp_path, browser):
    """The token is typed once and kept for the tab; the streams authenticate with the session
    cookie it is exchanged for, and after a restart (sessions are in the server's memory) the
    console exchanges it again by itself."""
    import hashlib
    import secrets
    token = "trb_" + secrets.token_urlsafe(24)
    tokens = tmp_path / "tokens"
    tokens.write_text(f"operator {hashlib.sha256(token.encode()).hexdigest()} admin,streams:read,queries:read\n")
    data, port = tmp_path / "data", free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(data, port, "--tokens-file", str(tokens))
    try:
        browser.get(base + "/ui/")
        field = wait(browser, lambda d: d.find_elements(By.ID, "token"), what="the token form")[0]
        assert browser.find_element(By.CSS_SELECTOR, "label[for='token']").text.startswith("API token")
        field.send_keys("wrong")
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        wait(browser, lambda d: "not valid" in d.find_element(By.ID, "token-form").text, what="the refusal")
        field.clear()
        field.send_keys(token)
        browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
        wait(browser, lambda d: d.find_element(By.ID, "connection").text == "live", what="the dashboard's stream")
        assert token not in browser.current_url
        proc.terminate()
        proc.wait(timeout=15)
        proc = serve(data, port, "--tokens-file", str(tokens))
        wait(browser, lambda d: d.find_element(By.ID, "connection").text == "live", timeout=20, what="the stream after the restart")
        assert not browser.find_elements(By.ID, "token-form"), "asked again for a token the tab has"
    finally:
        proc.kill()
