from tests.browser.test_planner_browser import voila, browser, VIEWPORT, _wait_settled, _open_tab, _shot, _scroll_planner_into_view  # noqa

def test_shots(voila, browser):
    base, root = voila
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(120_000)
    page.goto(f"{base}/")
    page.wait_for_selector(".bd-summary", timeout=120_000)
    _wait_settled(page)
    _scroll_planner_into_view(page)
    _shot(page, "zz_default_1366.png")
    _open_tab(page, "Atlas")
    page.wait_for_timeout(2500)
    _shot(page, "zz_atlas_1366.png")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(1500)
    _shot(page, "zz_atlas_1920.png")
