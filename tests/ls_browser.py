"""Annotate one Label Studio task in a real browser, as a person would (used by test_label_studio).

Runs under the Label Studio venv's Python (it needs ``playwright``; the browser is a system
Chromium). Reads a JSON job on stdin:

    {"url", "email", "password", "project", "chromium",
     "tasks": [{"task": 12, "kind": "incident" | "hard_negative", "incidents": "<box text>",
                "actions": [{"label": "LOC", "start": 10, "end": 13, "how": "mouse" | "range" | "dblclick"}]}]}

Offsets are Python code points into the task text. ``mouse`` drags from the span's first
character to its last (and, for a span that ends the text, past the end of the line, the case
reported to shift offsets in RTL text); ``range`` sets the DOM selection (what a keyboard
selection gives); ``dblclick`` double-clicks a word. Then it submits each task and prints, per
task, the region texts the page showed.
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


def annotate_task(page, job: dict, task: dict) -> list[str]:
    page.goto(f"{job['url']}/projects/{job['project']}/data?task={task['task']}")
    page.wait_for_selector(".lsf-htx-richtext", timeout=60_000)
    page.wait_for_timeout(1000)
    page.evaluate(JS_HELPERS)
    total = page.evaluate("window.__hasila.total()")
    for act in task["actions"]:
        page.locator(".lsf-label__text", has_text=act["label"]).first.click()
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
    page.locator("label", has_text=task["kind"]).first.click()
    if task.get("incidents"):
        page.locator("textarea").first.fill(task["incidents"])
    shown = page.locator(".htx-highlight").all_inner_texts()
    with page.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST"):
        page.locator("button", has_text="Submit").first.click()
    return shown


def annotate(job: dict) -> list[list[str]]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=job["chromium"], args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(job["url"] + "/user/login")
        page.fill("input[name=email]", job["email"])
        page.fill("input[name=password]", job["password"])
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        shown = [annotate_task(page, job, task) for task in job["tasks"]]
        browser.close()
        return shown


if __name__ == "__main__":
    print(json.dumps(annotate(json.load(sys.stdin)), ensure_ascii=False))
