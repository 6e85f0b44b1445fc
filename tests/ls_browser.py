"""Annotate one Label Studio task in a real browser, as a person would (used by test_label_studio).

Runs under the Label Studio venv's Python (it needs ``playwright``; the browser is a system
Chromium). Reads a JSON job on stdin:

    {"url", "email", "password", "project", "chromium", "screenshot": "/path.png" (optional),
     "tasks": [{"task": 12, "kind": "incident" | "hard_negative",
                "actions": [{"label": "LOC", "start": 10, "end": 13, "how": "mouse" | "range" | "dblclick"}],
                "attributes": [{"region": ["KILLED", "4"], "choices": ["incident", "exact"],
                                "numbers": {"value": 4}, "date": "2015-08-01", "notes": "..."}],
                "relations": [{"from": ["INCIDENT", ""], "to": ["LOC", "دير الزور"], "label": "location" | null}]}]}

Offsets are Python code points into the task text. ``mouse`` drags from the span's first
character to its last (and, for a span that ends the text, past the end of the line, the case
reported to shift offsets in RTL text); ``range`` sets the DOM selection (what a keyboard
selection gives); ``dblclick`` double-clicks a word. Then it submits each task and prints, per
task, the region texts the page showed. ``attributes`` are set with the per-region controls of
annotations/label_config.xml after selecting the region (label, and text shown in the region
list); ``relations`` are drawn with the region's "Create Relation" button and then named in the
Relations panel. With ``screenshot``, the labelling screen of the first task is saved there
(after its relations, before submitting).
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

# Text-node position of a code-point offset, and character rectangles, inside the Text tag.
JS_HELPERS = """
window.__hasila = {
  nodes() {
    const root = document.querySelector('.lsf-htx-richtext');
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const out = []; let node, cp = 0;
    while ((node = walker.nextNode())) { const n = [...node.data].length; out.push([node, cp, n]); cp += n; }
    return out;
  },
  at(cp) {
    const nodes = this.nodes();
    for (const [node, start, n] of nodes) {
      if (cp <= start + n) { const units = [...node.data].slice(0, cp - start).join('').length; return [node, units]; }
    }
    throw new Error('offset ' + cp + ' outside the text');
  },
  range(s, e) { const r = document.createRange(); const [a, ao] = this.at(s); const [b, bo] = this.at(e); r.setStart(a, ao); r.setEnd(b, bo); return r; },
  rect(s, e) { const q = this.range(s, e).getBoundingClientRect(); return {left: q.left, right: q.right, top: q.top, bottom: q.bottom}; },
  total() { return this.nodes().reduce((a, [, , n]) => a + n, 0); },
  select(s, e) {
    const range = this.range(s, e);
    const el = range.startContainer.parentElement;
    el.dispatchEvent(new MouseEvent('mousedown', {bubbles: true, buttons: 1}));
    const sel = document.getSelection(); sel.removeAllRanges(); sel.addRange(range);
    el.dispatchEvent(new MouseEvent('mouseup', {bubbles: true, buttons: 1}));
  },
};
"""


def unselect(page) -> None:
    """No region selected, no input focused (Escape is LS's "unselect region" key)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_timeout(200)


def pick_label(page, label: str) -> None:
    """Make ``label`` the active label with no region selected (with per-region controls in the
    config, LS selects each new region, and a label clicked then would relabel that region)."""
    unselect(page)
    chip = page.locator(".lsf-label", has=page.locator(".lsf-label__text", has_text=label)).first
    if "lsf-label_selected" not in (chip.get_attribute("class") or ""):
        chip.click()
    page.wait_for_timeout(200)


def annotate_task(page, job: dict, task: dict) -> list[str]:
    page.goto(f"{job['url']}/projects/{job['project']}/data?task={task['task']}")
    page.wait_for_selector(".lsf-htx-richtext", timeout=60_000)
    page.wait_for_timeout(1000)
    page.evaluate(JS_HELPERS)
    total = page.evaluate("window.__hasila.total()")
    for act in task["actions"]:
        pick_label(page, act["label"])
        s, e = act["start"], act["end"]
        if act["how"] == "range":
            page.evaluate(f"window.__hasila.select({s}, {e})")
        else:
            first = page.evaluate(f"window.__hasila.rect({s}, {s + 1})")
            last = page.evaluate(f"window.__hasila.rect({e - 1}, {e})")
            y = (first["top"] + first["bottom"]) / 2
            if act["how"] == "dblclick":
                page.mouse.dblclick((first["left"] + first["right"]) / 2, y)
            else:  # RTL: a word's first character is its rightmost one
                x0 = first["right"] - 1
                x1 = last["left"] - 40 if e == total else last["left"] + 1
                page.mouse.move(x0, y)
                page.mouse.down()
                page.mouse.move((x0 + x1) / 2, y, steps=4)
                page.mouse.move(x1, y, steps=4)
                page.mouse.up()
        page.wait_for_timeout(300)
    for attrs in task.get("attributes", []):
        set_attributes(page, attrs)
    for n, rel in enumerate(task.get("relations", [])):
        draw_relation(page, rel, n)
    page.locator("label", has_text=task["kind"]).first.click()
    if job.get("screenshot") and task is job["tasks"][0]:
        select_region(page, *task["attributes"][0]["region"]) if task.get("attributes") else None
        page.wait_for_timeout(500)
        page.screenshot(path=job["screenshot"], full_page=True)
    shown = [t for t in page.locator(".htx-highlight").all_inner_texts()]
    with page.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST"):
        page.locator("button", has_text="Submit").first.click()
    return shown


def select_region(page, label: str, text: str, *, fresh: bool = True) -> None:
    """Select the region in the region list (its label, then its text)."""
    if fresh:
        unselect(page)
    item = page.locator(".lsf-outliner-item", has_text=label)
    if text:
        item = item.filter(has_text=text)
    item.first.click()
    page.wait_for_timeout(300)


def set_attributes(page, attrs: dict) -> None:
    select_region(page, *attrs["region"])
    panel = page.locator(".hasila-attrs:visible")
    for value in attrs.get("choices", []):
        panel.locator(f"input[name='{value}']").first.check()
        page.wait_for_timeout(200)
    for name, number in attrs.get("numbers", {}).items():
        box = panel.locator(f"input[name='{name}']").first
        box.fill(str(number))
        box.press("Tab")
    if attrs.get("date"):
        box = panel.locator("input[type=date]").first
        box.fill(attrs["date"])
        box.press("Tab")
    if attrs.get("notes"):
        box = panel.locator("textarea, input[name='notes']").first
        box.fill(attrs["notes"])
        box.press("Enter")  # a per-region TextArea takes its entry on Enter
    page.wait_for_timeout(300)


def draw_relation(page, rel: dict, n: int) -> None:
    """Select the first region, "Create Relation", click the second; name it in the Relations panel."""
    select_region(page, *rel["from"])
    page.locator("button[aria-label='Create Relation']").first.click()
    page.wait_for_timeout(300)
    select_region(page, *rel["to"], fresh=False)  # in relation mode, the region clicked next is the target
    page.wait_for_timeout(300)
    if rel.get("label"):
        unselect(page)
        page.get_by_text("Relations", exact=True).locator("visible=true").first.click()
        page.wait_for_timeout(300)
        row = page.locator(".lsf-relations__item").nth(n)
        row.hover()
        row.locator("button[aria-label='Show Relation Labels']").click()
        page.wait_for_timeout(300)
        row.get_by_text("Select labels").click()
        page.wait_for_timeout(300)
        options = page.get_by_role("option", name=rel["label"], exact=True)
        (options if options.count() else page.get_by_text(rel["label"], exact=True)).last.click()
        page.wait_for_timeout(300)
        page.keyboard.press("Escape")
        page.get_by_text("Regions", exact=True).locator("visible=true").first.click()
        page.wait_for_timeout(300)


def annotate(job: dict) -> list[list[str]]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=job["chromium"], args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(job["url"] + "/user/login")
        page.fill("input[name=email]", job["email"])
        page.fill("input[name=password]", job["password"])
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        try:
            shown = [annotate_task(page, job, task) for task in job["tasks"]]
        except Exception:
            if job.get("screenshot"):  # where it stopped, for the person reading the failure
                page.screenshot(path=job["screenshot"] + ".failed.png", full_page=True)
            raise
        browser.close()
        return shown


if __name__ == "__main__":
    print(json.dumps(annotate(json.load(sys.stdin)), ensure_ascii=False))
