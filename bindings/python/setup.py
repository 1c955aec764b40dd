"""The platform wheel: when dist.sh has put libsmtp.so.0 into libsmtp/, the
wheel is not pure (Root-Is-Purelib: false) and is tagged
py3-none-$LIBSMTP_WHEEL_PLATFORM (e.g. manylinux_2_34_x86_64): any Python 3
(the binding is ctypes, no extension module), one platform. Without the
library (pip install ./bindings/python) it is the pure py3-none-any wheel
that finds an installed libsmtp. Everything else is in pyproject.toml."""
import os

from setuptools import Distribution, setup

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1
    from wheel.bdist_wheel import bdist_wheel

BUNDLED = os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libsmtp", "libsmtp.so.0"))


class BinaryDistribution(Distribution):
    """Platform-specific content: the files go to platlib, the wheel's root."""

    def has_ext_modules(self):
        return BUNDLED


class platform_wheel(bdist_wheel):
    def get_tag(self):
        tag = super().get_tag()
        if BUNDLED:
            return "py3", "none", os.environ.get("LIBSMTP_WHEEL_PLATFORM") or tag[2]
        return tag


setup(distclass=BinaryDistribution, cmdclass={"bdist_wheel": platform_wheel})
