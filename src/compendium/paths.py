"""Every path the project knows, and nowhere else.

A :class:`ProjectPaths` is built from three roots — the repository, the data
package and the build folder — and derives every other location from them, so
that a build from real data kept outside the repository (``--data PATH``) and
a build from the committed synthetic data never share a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
STRATEGY_CATALOGUE = RESOURCES_DIR / "strategies.csv"
DEFAULT_CODEBOOK = RESOURCES_DIR / "codebook.csv"
POLICY_TIMELINE = RESOURCES_DIR / "policy_timeline.csv"
REFORM_COMPONENTS = RESOURCES_DIR / "reform_components.csv"
MODELS = RESOURCES_DIR / "models.csv"
MODEL_STRATEGIES = RESOURCES_DIR / "model_strategies.csv"

#: The notebook run once per network, and the one run once per setting.
PER_NETWORK = "network_profile"
PER_SETTING = "setting_comparison"
#: Cross-network notebooks, run once each; True when they read the data package.
CROSS_NETWORK = {
    "overview": True,
    "qualitative": True,
    "outcomes": True,
    "policy_timeline": False,
}


def find_root() -> Path:
    """Return the repository root.

    ``COMPENDIUM_ROOT`` wins; otherwise the source tree this package was
    installed from (editable install); otherwise the current directory.
    """
    env = os.environ.get("COMPENDIUM_ROOT")
    if env:
        return Path(env).resolve()
    candidate = PACKAGE_DIR.parents[1]
    if (candidate / "workflow" / "Snakefile").exists():
        return candidate
    return Path.cwd().resolve()


@dataclass(frozen=True)
class ProjectPaths:
    """Locations of one compendium build.

    Parameters
    ----------
    root : Path
        Repository root (holds ``notebooks/``, ``book/`` and ``workflow/``).
    data_dir : Path
        The data package read by the build.
    build_dir : Path
        Where slices, executed notebooks, logs and the staged book go.
    html_dir : Path
        Where the finished HTML book is published.
    """

    root: Path
    data_dir: Path
    build_dir: Path
    html_dir: Path

    # -- sources ---------------------------------------------------------
    @property
    def notebooks_dir(self) -> Path:
        return self.root / "notebooks"

    def notebook(self, name: str) -> Path:
        """A notebook template, by name (``network_profile``, ``overview``, ...)."""
        return self.notebooks_dir / f"{name}.ipynb"

    @property
    def book_dir(self) -> Path:
        """Narrative chapters, ``_config.yml`` and ``references.bib``."""
        return self.root / "book"

    @property
    def snakefile(self) -> Path:
        return self.root / "workflow" / "Snakefile"

    @property
    def package_source(self) -> Path:
        return PACKAGE_DIR

    # -- build products --------------------------------------------------
    @property
    def slices_dir(self) -> Path:
        return self.build_dir / "slices"

    def network_slice(self, network_id: str) -> Path:
        return self.slices_dir / "networks" / network_id

    def setting_slice(self, setting: str) -> Path:
        """The slices of one setting's networks, as one package (what its notebook reads)."""
        return self.slices_dir / "settings" / setting

    @property
    def all_networks_slice(self) -> Path:
        """Every network's slice, as one package (what the cross-network notebooks read)."""
        return self.slices_dir / "all"

    @property
    def shared_slice(self) -> Path:
        """Tables every notebook reads (the codebook) and the package manifest."""
        return self.slices_dir / "shared"

    @property
    def executed_dir(self) -> Path:
        return self.build_dir / "executed"

    def executed_network(self, network_id: str) -> Path:
        return self.executed_dir / "networks" / f"{network_id}.ipynb"

    def executed_setting(self, setting: str) -> Path:
        return self.executed_dir / "settings" / f"{setting}.ipynb"

    def executed_cross(self, name: str) -> Path:
        return self.executed_dir / f"{name}.ipynb"

    def executed_notebooks(self, plan) -> list[Path]:
        """Every notebook a full build executes for ``plan`` (a ``compendium.data.plan.Plan``)."""
        return (
            [self.executed_network(n) for n in sorted(plan.networks)]
            + [self.executed_setting(s) for s in plan.settings]
            + [self.executed_cross(n) for n in CROSS_NETWORK]
        )

    @property
    def logs_dir(self) -> Path:
        return self.build_dir / "logs"

    @property
    def pdf_file(self) -> Path:
        """The book as one PDF (``compendium pdf``), in a ``pdf/`` folder beside the HTML."""
        return self.html_dir.parent / "pdf" / "compendium.pdf"

    @property
    def book_stage(self) -> Path:
        """Assembled book source (narrative + executed notebooks); Sphinx builds here."""
        return self.build_dir / "book"

    @property
    def kernel_sentinel(self) -> Path:
        return self.build_dir / ".kernel-registered"

    @property
    def build_stamp(self) -> Path:
        """What the last successful build read and left (see ``orchestrate.build_stamp``)."""
        return self.build_dir / ".up-to-date"

    @property
    def executor_socket(self) -> Path:
        """Unix socket of the warm-kernel service of a running ``compendium build``."""
        return self._socket("executor")

    @property
    def book_socket(self) -> Path:
        """Unix socket of the service's warm book builder."""
        return self._socket("book")

    def _socket(self, name: str) -> Path:
        # In the build folder; a folder too deep for a socket path (about 100 bytes)
        # gets one in the temporary folder, named after the build folder.
        path = self.build_dir / f".{name}.sock"
        if len(os.fsencode(path)) < 100:
            return path
        tag = hashlib.sha256(os.fsencode(self.build_dir.resolve())).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"compendium-{tag}-{name}.sock"


def is_committed_data(data_dir: str | os.PathLike) -> bool:
    """Whether ``data_dir`` is the repository's committed ``data/`` (where real data never go)."""
    return Path(data_dir).resolve() == (find_root() / "data").resolve()


def default_paths(data_dir: str | os.PathLike | None = None) -> ProjectPaths:
    """Paths for the committed data, or for ``data_dir`` / ``COMPENDIUM_DATA``.

    A data package outside the repository gets its own build folder under
    ``private-builds/`` (ignored by git), so real data never mixes with the
    synthetic build.
    """
    root = find_root()
    chosen = data_dir or os.environ.get("COMPENDIUM_DATA")
    default_data = root / "data"
    if chosen is None or is_committed_data(chosen):
        return ProjectPaths(
            root=root,
            data_dir=default_data,
            build_dir=root / "build",
            html_dir=root / "book" / "_build" / "html",
        )
    data = Path(chosen).resolve()
    # One folder per data package location, so two packages never share a build.
    tag = hashlib.sha256(str(data).encode()).hexdigest()[:8]
    private = root / "private-builds" / f"{data.name}-{tag}"
    return ProjectPaths(
        root=root, data_dir=data, build_dir=private / "build", html_dir=private / "html"
    )
