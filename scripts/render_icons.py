"""Render each addon's static/description/icon.svg to the icon.png Odoo shows (headless Chromium).

python3 scripts/render_icons.py
"""

import shutil
import subprocess
import sys

from devstack import ADDONS, REPO


def main():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium:
        sys.exit("Chromium is needed (Debian: apt-get install chromium).")
    for addon in ADDONS:
        source = REPO / addon / "static" / "description" / "icon.svg"
        target = source.with_suffix(".png")
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--default-background-color=00000000",
                "--window-size=256,256",
                f"--screenshot={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        print(f"wrote {target.relative_to(REPO)}")


if __name__ == "__main__":
    main()
