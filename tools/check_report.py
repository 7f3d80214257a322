"""Check an HTML report from `tzer report`: it loads nothing from elsewhere, embeds both plots, and renders in
Debian's Chromium run headless (`apt-get install chromium`); the screenshot is for a person to look at.

    python tools/check_report.py REPORT.html --screenshot shot.png

Exits 0 when the checks pass and Chromium wrote the screenshot, else 1 with the reason.
"""

from __future__ import annotations

import argparse
import html.parser
import os
import shutil
import subprocess
import sys
import tempfile

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars")


class _Resources(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("src", "href"):
            value = values.get(name)
            if value and not value.startswith(("data:", "#")):
                self.external.append(f"<{tag} {name}={value[:60]}>")
        if tag == "img" and str(values.get("src", "")).startswith("data:image/png;base64,"):
            self.images.append(values.get("alt") or "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--height", type=int, default=2400)
    args = parser.parse_args()
    resources = _Resources()
    with open(args.report, encoding="utf-8") as handle:
        resources.feed(handle.read())
    if resources.external:
        print(f"not self-contained: {resources.external[:5]}")
        return 1
    if len(resources.images) < 2:
        print(f"expected both plots embedded, found {resources.images}")
        return 1
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium on PATH (Debian: apt-get install chromium)")
        return 1
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               f"--window-size=1300,{args.height}", f"--screenshot={os.path.abspath(args.screenshot)}",
                               "file://" + os.path.abspath(args.report)], capture_output=True, text=True, timeout=120)
    if not os.path.exists(args.screenshot):
        print(f"chromium wrote no screenshot (exit {done.returncode}): {done.stderr[-500:]}")
        return 1
    print(f"self-contained, plots embedded: {', '.join(resources.images)}; screenshot {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
