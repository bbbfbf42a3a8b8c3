"""The video table in a real browser: paging and sorting by patches, never a resend of the whole element."""

from __future__ import annotations

import pytest

from tests.browser.test_live_dashboard import open_job, wait_until

pytestmark = pytest.mark.browser

BOTTOM = "return document.querySelector('.q-table__bottom')?.innerText.replace(/\\s+/g, ' ') || ''"
ROW_INDEXES = (
    "return [...document.querySelectorAll('.q-table tbody tr')]"
    ".map(tr => Number(tr.querySelectorAll('td')[2]?.innerText))"
)
CLICK_NEXT = (
    "const b = [...document.querySelectorAll('.q-table__bottom button')]"
    ".find(b => b.innerText.includes('chevron_right')); if (b) b.click(); return !!b;"
)
SORT_BY = "[...document.querySelectorAll('.q-table thead th')].find(th => th.innerText.includes(arguments[0])).click()"
# every element id the server sends whole from now on (NiceGUI's "update" message), and every table patch
RECORD = """
window.__bd_updated = []; window.__bd_patches = 0;
window.socket.onAny((type, msg) => {
  if (type === 'update') window.__bd_updated.push(...Object.keys(msg));
  if (type === 'run_javascript' && msg.code.includes('"patch"')) window.__bd_patches += 1;
});
"""


def test_paging_and_sorting_patch_the_shown_page(live_server: str, driver) -> None:  # noqa: ANN001
    open_job(driver, live_server, "Weekly recap")
    wait_until(lambda: "1-25 of 60" in driver.execute_script(BOTTOM), what="the first page")
    assert driver.execute_script(ROW_INDEXES)[:3] == [1, 2, 3]
    table_id = driver.execute_script("return document.querySelector('.q-table__container').id").removeprefix("c")
    driver.execute_script(RECORD)

    assert driver.execute_script(CLICK_NEXT)
    wait_until(lambda: "26-50 of 60" in driver.execute_script(BOTTOM), what="the second page")
    wait_until(lambda: driver.execute_script(ROW_INDEXES)[:2] == [26, 27], what="the second page's rows")

    # the table is sorted by row already: a click on its header sorts descending, from page 1
    driver.execute_script(SORT_BY, "Row")
    wait_until(lambda: driver.execute_script(ROW_INDEXES)[:2] == [60, 59], what="sorted by row, descending")
    driver.execute_script(SORT_BY, "Title")
    wait_until(lambda: driver.execute_script(ROW_INDEXES)[:3] == [1, 10, 11], what="sorted by title")
    assert "1-25 of 60" in driver.execute_script(BOTTOM)

    assert driver.execute_script("return window.__bd_patches") >= 3
    assert table_id not in driver.execute_script("return window.__bd_updated")  # the element was never resent
