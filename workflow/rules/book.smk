# Book: assemble the narrative and the executed notebooks, build with execution off, publish.

BOOK_SENTINEL = PATHS.build_dir / "book.done"
NARRATIVE = sorted(
    str(p)
    for p in PATHS.book_dir.rglob("*")
    if p.is_file() and "_build" not in p.relative_to(PATHS.book_dir).parts
)

# The published book is a side effect (Snakemake deletes a job's outputs before running it,
# and the last good book must survive a failed build); rebuild if it went missing.
if BOOK_SENTINEL.exists() and not (PATHS.html_dir / "index.html").exists():
    BOOK_SENTINEL.unlink()


rule book:
    input:
        notebooks=PATHS.executed_notebooks(PLAN),
        narrative=NARRATIVE,
        package=[str(p) for p in book_files(PATHS.package_source)],
    output:
        BOOK_SENTINEL,
    log:
        PATHS.logs_dir / "book.log",
    shell:
        # quoted: a clone's folder may have a space in its name
        '"{PYTHON}" -m compendium build-book --root "{PATHS.root}" --data "{PATHS.data_dir}" '
        '--build "{PATHS.build_dir}" --html "{PATHS.html_dir}" --sentinel "{output}" > "{log}" 2>&1 '
        '|| (cat "{log}" >&2; exit 1)'
