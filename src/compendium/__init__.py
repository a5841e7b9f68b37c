"""compendium: a reproducible research compendium on integrated mental-health service networks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("compendium")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
