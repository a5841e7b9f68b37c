"""Execute one parameterized notebook with papermill, atomically.

The executed copy is written to a temporary file beside its destination and
moved into place only when every cell ran, so a failed or killed run leaves no
output that looks complete. A failure is summarised in a few lines (notebook,
parameters, failing cell, error) and the full traceback goes to a log file.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_write_bytes

KERNEL_NAME = "compendium"


@dataclass
class NotebookFailure(Exception):
    """A notebook cell raised; ``summary`` is the short, printable account."""

    notebook: str
    parameters: dict
    cell: int | None
    error: str
    log: str

    @property
    def summary(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items() if k != "data_dirs")
        where = f"cell {self.cell}" if self.cell is not None else "before any cell ran"
        return (
            f"notebook {self.notebook} ({params}) failed at {where}:\n"
            f"    {self.error}\n"
            f"    full traceback: {self.log}"
        )

    def __str__(self) -> str:
        return self.summary


def run_notebook(
    template: Path,
    output: Path,
    parameters: dict,
    log_path: Path,
    provenance: dict | None = None,
    kernel_name: str = KERNEL_NAME,
    kernel_manager=None,
    cwd: Path | None = None,
    labels: tuple[str, str] | None = None,
) -> None:
    """Execute ``template`` with ``parameters`` into ``output``.

    What the cells write to stderr (warnings, mostly) is taken out of the executed
    copy and written to ``log_path``: the executed notebook becomes a page of a
    published book, and a warning there shows file paths of the builder's machine.

    Parameters
    ----------
    template : Path
        The committed notebook (outputs stripped, a cell tagged ``parameters``).
    output : Path
        Where the executed copy goes; written only on success.
    parameters : dict
        Values injected by papermill after the ``parameters`` cell.
    log_path : Path
        File that receives the full traceback on failure.
    provenance : dict, optional
        Extra facts stored under the notebook's ``metadata.compendium``.
    kernel_manager : optional
        A kernel already started for this run (see :mod:`compendium.run.service`);
        papermill starts one of ``kernel_name`` when None. It is never reused.
    cwd : Path, optional
        The folder the kernel papermill starts runs in, which relative paths among
        ``parameters`` are relative to (a started kernel was given it already); a
        new temporary folder when None.
    labels : (str, str), optional
        How papermill's metadata names the template and the output (``input_path``
        and ``output_path``): paths relative to the project, not the machine's
        absolute ones. The file names when None.

    Raises
    ------
    NotebookFailure
        When a cell raises.
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".ipynb", dir=output.parent)
    os.close(fd)
    started = time.time()
    try:
        with tempfile.TemporaryDirectory(prefix="compendium-run-") as workdir:
            nb = papermill.execute_notebook(
                str(template),
                tmp,
                parameters=parameters,
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                cwd=str(cwd) if cwd is not None else workdir,
                # written once at the end, not after every cell: nobody watches it meanwhile
                request_save_on_cell_execute=False,
                **({"km": kernel_manager} if kernel_manager is not None else {}),
            )
    except PapermillExecutionError as err:
        log_path.write_text(
            f"notebook: {template}\nparameters: {json.dumps(parameters, indent=2)}\n"
            f"cell: {err.cell_index}\n\n" + "\n".join(err.traceback) + "\n",
            encoding="utf-8",
        )
        Path(tmp).unlink(missing_ok=True)
        raise NotebookFailure(
            Path(template).name,
            parameters,
            err.exec_count or err.cell_index,
            f"{err.ename}: {err.evalue}".strip(),
            str(log_path),
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    Path(tmp).unlink(missing_ok=True)
    input_label, output_label = labels or (Path(template).name, output.name)
    nb.metadata["papermill"].update(input_path=input_label, output_path=output_label)
    nb.metadata["compendium"] = {
        **(provenance or {}),
        "template": Path(template).name,
        "parameters": parameters,
        "wall_seconds": round(time.time() - started, 2),
    }
    moved = take_stderr(nb)
    atomic_write_bytes(output, nbformat.writes(nb).encode("utf-8"))
    notes = [f"\nstderr of cell {cell} (left out of the page):\n{text}" for cell, text in moved]
    log_path.write_text(f"ok: {output}\n" + "".join(notes), encoding="utf-8")


def take_stderr(nb) -> list[tuple[int, str]]:
    """Remove the stderr outputs of an executed notebook; return them as (cell, text).

    The cell is numbered as papermill's failure summary numbers it (its execution count).
    """
    moved = []
    for index, cell in enumerate(nb.cells):
        outputs = cell.get("outputs", [])
        stderr = [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
        if stderr:
            moved.append((cell.get("execution_count") or index, "".join(o.text for o in stderr)))
            cell.outputs = [o for o in outputs if not any(o is e for e in stderr)]
    return moved
