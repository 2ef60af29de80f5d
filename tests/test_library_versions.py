"""The code that leans on library internals (assetflow/realtime/internals.py) runs only on the versions it was read for."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from assetflow.realtime.internals import TESTED_VERSIONS


@pytest.mark.parametrize("package", sorted(TESTED_VERSIONS))
def test_the_installed_version_is_the_one_the_internals_were_written_for(package):
    installed, tested = version(package), TESTED_VERSIONS[package]
    assert installed.split(".")[:2] == tested.split("."), (
        f"{package} {installed} is installed, but assetflow/realtime/internals.py was written for {tested}.x: "
        f"read each piece of that module against {package} {installed}, then move TESTED_VERSIONS and the pin "
        f"in requirements.txt together")


def test_requirements_pin_each_library_to_its_tested_minor_version():
    pins = (line.split("#")[0].strip() for line in open("requirements.txt", encoding="utf-8"))
    pinned = {pin.split(">=")[0].lower(): pin for pin in pins if ">=" in pin}
    for package, tested in TESTED_VERSIONS.items():
        major, minor = (int(part) for part in tested.split("."))
        assert pinned[package.lower()] == f"{package}>={tested},<{major}.{minor + 1}", pinned[package.lower()]
