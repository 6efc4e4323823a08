"""The staff UI in a real headless Chromium: transcription, the worklist, and what reception can't open.

Needs Debian's `chromium` and `chromium-driver` (.ci/run installs them). Without them the tests
skip locally; CI sets FAIL_ON_SKIP=1, so there a missing browser fails the run. Every page a test
passes through is saved under test-artifacts/screenshots/.
"""

from __future__ import annotations

import datetime
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from intake.models import FlagStatus, Intake, ReferralFlag, Role
from tests.factories import IdentifierFactory, MembershipFactory, PatientFactory, UserFactory

from .conftest import PASSWORD, submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "screenshots"
WAIT_SECONDS = 10


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM or not Path(CHROMEDRIVER).exists():
        pytest.skip(
            "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1360,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager never downloads anything.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(condition: Callable[[], Any], *, what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll until `condition()` is truthy (returns it) or fail after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = condition()
        except Exception:  # element not there yet: keep polling until the deadline
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Staff:
    """One staff user's browser session over the live server."""

    def __init__(self, driver: Any, base_url: str, name: str) -> None:
        self.driver, self.base_url, self.name = driver, base_url, name
        self.shots = 0
        driver.delete_all_cookies()

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def click(self, element: Any) -> None:
        """Scroll the element to the middle of the window (clear of the sticky save bar), click it."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def screenshot(self, page: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        target = SCREENSHOTS / f"{self.name}-{self.shots:02d}-{page}.png"
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1360, min(max(height, 700), 4000))
        self.driver.save_screenshot(str(target))
        self.driver.set_window_size(1360, 1000)
        return target

    def log_in(self, username: str) -> None:
        self.open("/admin/login/")
        wait_for(lambda: self.css("#id_username"), what="the login form")
        self.screenshot("login")
        self.css("#id_username").send_keys(username)
        self.css("#id_password").send_keys(PASSWORD)
        self.css("input[type=submit]").click()
        wait_for(lambda: "/admin/login/" not in self.driver.current_url, what="logging in")


def staff_user(clinic: Any, role: str, username: str) -> Any:
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Staff")
    MembershipFactory(user=user, clinic=clinic, role=role)
    return user


def test_reception_transcribes_a_paper_intake_and_sees_the_scores(
    browser: Any, live_server: Any, clinic: Any
) -> None:
    patient = PatientFactory(clinic=clinic, family_name="Okafor", given_name="Ada")
    IdentifierFactory(patient=patient, value="MRN-1001")
    staff_user(clinic, Role.RECEPTION, "rita")
    page = Staff(browser, live_server.url, "reception")
    page.log_in("rita")
    page.screenshot("home")

    # Find the patient by identifier, open their page, start transcribing.
    page.open("/admin/intake/patient/?q=MRN-1001")
    wait_for(lambda: page.css("#result_list"), what="the patient list")
    page.screenshot("patients")
    page.css("#result_list tbody th a").click()
    transcribe = wait_for(lambda: page.css("a[href*='form=lbp-initial']"), what="the transcribe button")
    page.screenshot("patient")
    transcribe.click()
    wait_for(lambda: page.css("#intake-entry"), what="the entry form")

    # The paper form: moderate pain, PHQ-9 item 9 ticked "several days" (a safety flag).
    ticks = {
        "nrs__pain": 6,
        **{f"peg__{item}": 6 for item in ("p", "e", "g")},
        **{f"odi__s{n}": 2 for n in range(1, 11)},
        **{f"startback__q{n}": 1 for n in range(1, 5)},
        **{f"startback__q{n}": 0 for n in range(5, 10)},
        **{f"phq9__q{n}": 1 for n in range(1, 10)},
        **{f"gad7__q{n}": 1 for n in range(1, 8)},
        **{f"pcs__q{n}": 1 for n in range(1, 14)},
        **{f"isi__q{n}": 1 for n in range(1, 8)},
    }
    for name, value in ticks.items():
        page.click(page.css(f"#id_{name}_{value}"))
    for radio in page.all("input[type=radio][name^='red_flags__'][value='0']"):
        page.click(radio)
    page.css("#id_pain_duration_weeks").send_keys("16")
    page.click(page.css("#id_no_medications"))
    page.screenshot("entry")
    page.css("input[name=_save]").click()

    wait_for(lambda: page.css("#scores"), what="the result page")
    assert "Intake saved" in page.css("ul.messagelist").text
    assert page.css("#score-phq9 .score-total").text == "9"
    assert page.css("#score-nrs .score-total").text == "6"
    assert "Physiotherapy" in page.css("#pathway").text  # STarT Back 4, psychosocial 0: medium
    assert "Mental health safety" in page.css("#flags").text
    page.screenshot("result")
    assert Intake.objects.get(patient=patient).current_revision.source == "admin"


def test_coordinator_acknowledges_the_new_flag_at_the_top_of_the_worklist(
    browser: Any, live_server: Any, clinic: Any
) -> None:
    routine = PatientFactory(clinic=clinic, family_name="Brown", given_name="Sam")
    submit(routine, responses={"startback": {"q1": 1, "q2": 1, "q3": 1, "q4": 1}})  # routine physio
    urgent = PatientFactory(clinic=clinic, family_name="Okafor", given_name="Ada")
    IdentifierFactory(patient=urgent, value="MRN-2002")
    # Eight and four weeks ago: severe pain and disability; today's intake is much better but
    # ticks PHQ-9 item 9 (a safety flag). The patient page charts all three.
    submit(
        urgent,
        form="lbp-followup",
        completed_at=timezone.now() - datetime.timedelta(weeks=8),
        responses={"nrs": {"pain": 8}, "odi": {f"s{n}": 3 for n in range(1, 11)}, "phq9": {"q1": 2, "q2": 2}},
    )
    submit(
        urgent,
        form="lbp-followup",
        completed_at=timezone.now() - datetime.timedelta(weeks=4),
        responses={"nrs": {"pain": 7}, "odi": {f"s{n}": 2 for n in range(1, 11)}, "phq9": {"q1": 1, "q2": 1}},
    )
    flagged = submit(urgent, responses={"phq9": {"q9": 1}})
    flag = next(f for f in flagged.flags if f.kind == "mental_health_safety")
    staff_user(clinic, Role.COORDINATOR, "cora")
    page = Staff(browser, live_server.url, "coordinator")
    page.log_in("cora")

    page.open("/admin/intake/referralflag/")
    wait_for(lambda: page.css("#result_list"), what="the worklist")
    page.screenshot("worklist")
    first = page.css("#result_list tbody tr")
    assert "Mental health safety" in first.text and "Okafor" in first.text
    assert "Urgent" in first.text

    first.find_element("css selector", "th a").click()
    wait_for(lambda: page.css("#transitions"), what="the flag page")
    assert "phq9" in page.css("#reasons").text.lower() or "PHQ-9" in page.css("#reasons").text
    page.screenshot("flag")
    page.css("button[name=_acknowledge]").click()
    wait_for(lambda: page.css("#flag-status").text == "Acknowledged", what="the new status")
    page.screenshot("flag-acknowledged")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.ACKNOWLEDGED

    page.open("/admin/intake/referralflag/")
    wait_for(lambda: page.css("#result_list"), what="the worklist")
    assert "Acknowledged" in page.css("#result_list tbody tr").text
    page.screenshot("worklist-after")

    page.open(f"/admin/intake/patient/{urgent.pk}/change/")
    wait_for(lambda: page.css("#clinical-summary"), what="the patient page")
    page.screenshot("patient")


def test_reception_cannot_open_the_worklist(browser: Any, live_server: Any, clinic: Any) -> None:
    submit(PatientFactory(clinic=clinic), responses={"phq9": {"q9": 1}})
    staff_user(clinic, Role.RECEPTION, "rafa")
    page = Staff(browser, live_server.url, "reception-denied")
    page.log_in("rafa")
    assert not page.all("a[href$='/admin/intake/referralflag/']")
    page.open("/admin/intake/referralflag/")
    wait_for(lambda: "403" in page.driver.title or "Forbidden" in page.css("body").text, what="a 403 page")
    page.screenshot("worklist-forbidden")
    assert ReferralFlag.objects.count() == 1
