"""An operator picks a display's secondary model and its classes by name, and saves.

The page, its script (cms/static/cms/secondary_editor.js) and the save are real; what is
stored is the secondary JSON the API reads and writes (cms/display_secondary.py).
"""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from cms.models import DetectionModel, Display
from tests.browser.test_farm_pages_in_a_browser import log_in
from tests.factories import make_display, make_model

pytestmark = pytest.mark.django_db(transaction=True)


def classify_model(name: str) -> DetectionModel:
    model = make_model(name=name, version="v1")
    DetectionModel.objects.filter(pk=model.pk).update(task="classify", validation_state="valid")
    return model


def ticked_class(browser, label: str):  # type: ignore[no-untyped-def]
    """The checkbox of the class whose label reads ``label`` ("2: car")."""
    for option in browser.find_elements(By.CSS_SELECTOR, "label.secondary-class"):
        if option.text.strip() == label:
            return option.find_element(By.CSS_SELECTOR, "input[data-secondary-class]")
    raise AssertionError(f"no class {label!r} among the editor's checkboxes")


def save(browser, wait) -> None:  # type: ignore[no-untyped-def]
    button = browser.find_element(By.NAME, "_continue")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    # The page after a save has a success message too: wait for this one to be replaced.
    wait.until(expected_conditions.staleness_of(button))
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".messagelist .success, .errorlist"))


def test_operator_ticks_a_class_by_name_for_a_secondary_model_and_saves(
    browser, live_server, django_user_model
):
    # given a display whose model's classes are known, and two classify models
    display = make_display(name="Street screen")
    DetectionModel.objects.filter(pk=display.model_id).update(
        class_names={"0": "person", "1": "bicycle", "2": "car"}
    )
    colour = classify_model("colour")
    helmet = classify_model("helmet")
    wait = WebDriverWait(browser, 30)
    log_in(browser, live_server, django_user_model, f"/admin/cms/display/{display.pk}/change/")

    # then the JSON box gives way to the editor
    editor = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-secondary-editor]"))
    assert not browser.find_element(By.NAME, "secondary").is_displayed()
    assert "No secondary models." in editor.text

    # when the operator adds a secondary model, picks "helmet" by name and ticks "car"
    add = browser.find_element(By.CSS_SELECTOR, "[data-secondary-add]")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", add)
    add.click()
    model = Select(browser.find_element(By.CSS_SELECTOR, "[data-secondary-model]"))
    assert [o.text for o in model.options] == ["colour v1", "helmet v1"]
    model.select_by_visible_text("helmet v1")
    ticked_class(browser, "2: car").click()
    size = browser.find_element(By.CSS_SELECTOR, "[data-secondary-min-size]")
    size.clear()
    size.send_keys("48")
    save(browser, wait)

    # then the display stores the class's id, in the JSON the API knows
    display.refresh_from_db()
    assert display.secondary == [
        {"model": helmet.id, "classes": [2], "min_size": 48, "every_s": 2.0}
    ]

    # and the page shows it again by name; unticking every class means all classes
    wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "[data-secondary-item]"))
    shown = Select(browser.find_element(By.CSS_SELECTOR, "[data-secondary-model]"))
    assert shown.first_selected_option.text == "helmet v1"
    car = ticked_class(browser, "2: car")
    assert car.is_selected() and not ticked_class(browser, "0: person").is_selected()
    car.click()
    assert (
        "none ticked: all classes"
        in browser.find_element(By.CSS_SELECTOR, "[data-secondary-classes]").text
    )
    # a second model, then the first removed
    browser.find_element(By.CSS_SELECTOR, "[data-secondary-add]").click()
    browser.find_elements(By.CSS_SELECTOR, "[data-secondary-remove]")[0].click()
    save(browser, wait)
    display.refresh_from_db()
    assert display.secondary == [
        {"model": colour.id, "classes": None, "min_size": 32, "every_s": 2.0}
    ]


def test_json_the_server_refuses_stays_in_the_text_box_with_its_error(
    browser, live_server, django_user_model
):
    # given a display page whose editor is switched to JSON and given a bad interval
    display = make_display(name="Gate screen")
    colour = classify_model("colour")
    wait = WebDriverWait(browser, 30)
    log_in(browser, live_server, django_user_model, f"/admin/cms/display/{display.pk}/change/")
    toggle = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "[data-secondary-json]"))
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", toggle)
    toggle.click()
    text = browser.find_element(By.NAME, "secondary")
    assert text.is_displayed()
    text.clear()
    text.send_keys(json.dumps([{"model": colour.id, "every_s": -1}]))

    # when they save
    save(browser, wait)

    # then the server's message is on the field, and the editor shows the typed items by name
    errors = browser.find_element(By.CSS_SELECTOR, ".field-secondary .errorlist").text
    assert "secondary[0].every_s: must be greater than 0" in errors
    assert Display.objects.get(pk=display.pk).secondary == []
    shown = Select(browser.find_element(By.CSS_SELECTOR, "[data-secondary-model]"))
    assert shown.first_selected_option.text == "colour v1"
    every = browser.find_element(By.CSS_SELECTOR, "[data-secondary-every-s]")
    assert every.get_attribute("value") == "-1"
