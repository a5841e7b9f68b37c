"""Build the bad-input corpus: small data packages a messy real-data user could produce.

Every case is a folder holding a complete data package (the nine CSV files and
``datapackage.json``) and ``expected.yaml``, which says whether the package is
valid and, when it is not, the one-line problems ``compendium validate`` must
print (file, row, column and a piece of the message). Valid cases that only
change how the same data are written (line endings, byte-order marks, blank
lines, boolean words) say ``same_data_as_base: true``: they must load to the
very tables of the ``base`` case.

All cases derive from one tiny valid base: ``compendium.synth.generate(seed=8,
n_networks=2)`` (two rural networks) trimmed to 10 care episodes per network
with at most 5 service contacts per person, and 3 informants per network with
a few of their coded segments (single- and multi-coded, so that reliability can
be computed). Each case applies exactly one documented modification (the
docstring of its function, also written to ``expected.yaml`` and to the
package's description).

Run from anywhere, with the project's venv::

    python tests/bad_inputs/make_corpus.py

It rewrites every case folder; running it twice gives identical bytes.
"""

from __future__ import annotations

import csv
import functools
import io
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from compendium.data.read import DESCRIPTOR
from compendium.data.schema import TABLES
from compendium.data.write import descriptor_json, table_to_csv
from compendium.ingest import synth

HERE = Path(__file__).resolve().parent
SEED = 8
EPISODES_PER_NETWORK = 10
CONTACTS_PER_PERSON = 5
INFORMANTS_PER_NETWORK = 3
SEGMENTS_PER_INFORMANT = 6
N1, N2 = "rural_001", "rural_002"  # the base's two networks


# -- the base -------------------------------------------------------------------
def base_tables() -> dict[str, pd.DataFrame]:
    """The trimmed, valid base package as typed tables."""
    t = synth.generate(seed=SEED, n_networks=2)
    episodes = t["care_episodes"].groupby("network_id", sort=False).head(EPISODES_PER_NETWORK)
    contacts = t["service_contacts"]
    contacts = contacts[contacts["person_id"].isin(episodes["person_id"])]
    contacts = contacts.groupby("person_id", sort=False).head(CONTACTS_PER_PERSON)
    # informants of different roles, each with a few whole segments (every coder of a
    # kept segment is kept, so multi-coded segments stay multi-coded)
    informants = t["informants"].drop_duplicates(["network_id", "role"])
    informants = informants.groupby("network_id", sort=False).head(INFORMANTS_PER_NETWORK)
    segments = t["coded_segments"]
    segments = segments[segments["informant_id"].isin(informants["informant_id"])]
    keep = (
        segments.drop_duplicates("segment_id")
        .groupby("informant_id", sort=False)
        .head(SEGMENTS_PER_INFORMANT)["segment_id"]
    )
    segments = segments[segments["segment_id"].isin(keep)]
    trimmed = {
        **t,
        "care_episodes": episodes,
        "service_contacts": contacts,
        "informants": informants,
        "coded_segments": segments,
    }
    return {name: df.reset_index(drop=True) for name, df in trimmed.items()}


@functools.cache
def _base_texts() -> dict[str, str]:
    typed = base_tables()
    return {t.name: table_to_csv(typed[t.name], t) for t in TABLES}


def _text_frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)


def _frame_text(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, lineterminator="\n")


@dataclass
class Package:
    """A data package being edited: tables as text cells, or raw bytes once edited as bytes."""

    frames: dict[str, pd.DataFrame]
    raw: dict[str, bytes | None] = field(default_factory=dict)  # None: the file is absent
    descriptor_edit: Callable[[bytes], bytes] | None = None

    @classmethod
    def base(cls) -> Package:
        return cls({name: _text_frame(text) for name, text in _base_texts().items()})

    def frame(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def text(self, name: str) -> str:
        if name in self.raw:
            return self.raw[name].decode("utf-8")
        return _frame_text(self.frames[name])

    def set_text(self, name: str, text: str, encoding: str = "utf-8") -> None:
        self.raw[name] = text.encode(encoding)

    def lines(self, name: str) -> list[str]:
        return self.text(name).split("\n")[:-1]  # every file ends with a newline

    def set_lines(self, name: str, lines: list[str]) -> None:
        self.set_text(name, "\n".join(lines) + "\n")

    def files(self) -> dict[str, bytes | None]:
        return {
            f"{t.name}.csv": self.raw.get(t.name, _frame_text(self.frames[t.name]).encode())
            for t in TABLES
        }


def problem(file: str, row: int | None, column: str | None, contains: str) -> dict:
    return {"file": file, "row": row, "column": column, "contains": contains}


# -- the cases ------------------------------------------------------------------
Case = Callable[[Package], list[dict]]


@dataclass(frozen=True)
class CaseSpec:
    valid: bool
    same_data_as_base: bool
    make: Case


CASES: dict[str, CaseSpec] = {}


def case(name: str, valid: bool = False, same_data_as_base: bool = False):
    def register(fn: Case) -> Case:
        assert name not in CASES, name
        CASES[name] = CaseSpec(valid, same_data_as_base, fn)
        return fn

    return register


# invalid: one cell, column or file is wrong -----------------------------------
@case("missing_required_column")
def _(p: Package):
    """networks.csv lacks its required `setting` column."""
    p.frames["networks"] = p.frame("networks").drop(columns="setting")
    return [problem("networks.csv", 1, "setting", "required column is missing")]


@case("unknown_extra_column")
def _(p: Package):
    """organizations.csv has an extra column `notes` the schema does not know."""
    p.frames["organizations"] = p.frame("organizations").assign(notes="to check")
    return [problem("organizations.csv", 1, "notes", "unknown column; expected: organization_id")]


@case("duplicate_column")
def _(p: Package):
    """ties.csv has its `tie_kind` column twice (pasted at the end)."""
    lines = p.lines("ties")
    kinds = ["tie_kind", *p.frame("ties")["tie_kind"]]
    p.set_lines("ties", [f"{line},{kind}" for line, kind in zip(lines, kinds, strict=True)])
    return [problem("ties.csv", 1, "tie_kind", "column appears twice")]


@case("wrong_type_in_a_cell")
def _(p: Package):
    """ties.csv row 4: transactions_per_year is the text `about 40`."""
    p.frames["ties"].loc[2, "transactions_per_year"] = "about 40"
    return [
        problem("ties.csv", 4, "transactions_per_year", "expected a whole number, got 'about 40'")
    ]


@case("duplicate_primary_key")
def _(p: Package):
    """organizations.csv: the organization of row 4 reuses the organization_id of row 3."""
    orgs = p.frame("organizations")
    orgs.loc[2, "organization_id"] = orgs.loc[1, "organization_id"]
    key = orgs.loc[1, "organization_id"]
    return [
        problem("organizations.csv", 3, "organization_id", f"duplicate key '{key}'"),
        problem("organizations.csv", 4, "organization_id", f"duplicate key '{key}'"),
    ]


@case("duplicate_tie_row")
def _(p: Package):
    """ties.csv: the tie of row 2 is pasted again as the last row (same compound key)."""
    ties = p.frame("ties")
    p.frames["ties"] = pd.concat([ties, ties.iloc[[0]]], ignore_index=True)
    key = "network_id, source, target, tie_kind"
    return [
        problem("ties.csv", 2, key, f"duplicate key ({key})"),
        problem("ties.csv", len(ties) + 2, key, f"duplicate key ({key})"),
    ]


@case("tie_to_unknown_organization")
def _(p: Package):
    """ties.csv row 2: the target `rural_001-co-99` is not in organizations.csv."""
    p.frames["ties"].loc[0, "target"] = "rural_001-co-99"
    return [problem("ties.csv", 2, "target", "'rural_001-co-99' is not a")]


@case("tie_to_organization_of_another_network")
def _(p: Package):
    """ties.csv row 2: a tie of rural_001 goes to rural_002's CLSC."""
    ties = p.frame("ties")
    assert ties.loc[0, "network_id"] == N1
    ties.loc[0, "target"] = f"{N2}-clsc-01"
    return [
        problem(
            "ties.csv",
            2,
            "target",
            f"organization '{N2}-clsc-01' belongs to network '{N2}', not '{N1}'",
        )
    ]


@case("tie_to_itself")
def _(p: Package):
    """ties.csv row 2: the tie joins an organization to itself."""
    ties = p.frame("ties")
    ties.loc[0, "target"] = ties.loc[0, "source"]
    return [problem("ties.csv", 2, "target", "a tie cannot join an organization to itself")]


@case("unknown_strategy_code")
def _(p: Package):
    """network_strategies.csv row 5: strategy code `cl_telepathy` is not in the catalogue."""
    p.frames["network_strategies"].loc[3, "strategy_code"] = "cl_telepathy"
    return [
        problem(
            "network_strategies.csv", 5, "strategy_code", "unknown strategy code 'cl_telepathy'"
        )
    ]


@case("zero_population")
def _(p: Package):
    """networks.csv row 2: population 0."""
    p.frames["networks"].loc[0, "population"] = "0"
    return [problem("networks.csv", 2, "population", "must be greater than 0, got 0")]


@case("negative_population")
def _(p: Package):
    """networks.csv row 3: population -46000."""
    p.frames["networks"].loc[1, "population"] = "-46000"
    return [problem("networks.csv", 3, "population", "must be greater than 0, got -46000")]


@case("setting_outside_vocabulary")
def _(p: Package):
    """networks.csv row 2: setting `suburban`, not one of the three settings."""
    p.frames["networks"].loc[0, "setting"] = "suburban"
    return [
        problem(
            "networks.csv",
            2,
            "setting",
            "'suburban' is not one of: rural, urban_semi_urban, metropolitan",
        )
    ]


@case("setting_with_trailing_space")
def _(p: Package):
    """networks.csv row 3: setting `rural ` (a trailing space, as typed by hand)."""
    p.frames["networks"].loc[1, "setting"] = "rural "
    return [problem("networks.csv", 3, "setting", "'rural ' is not one of")]


@case("empty_table")
def _(p: Package):
    """networks.csv holds its header and no rows (the other tables are unchanged)."""
    p.frames["networks"] = p.frame("networks").iloc[:0]
    # One line for the empty table, and one per column whose rows refer to it,
    # rather than one per row of every table.
    referring = [
        (t.path, fk.fields[0]) for t in TABLES for fk in t.foreign_keys if fk.resource == "networks"
    ]
    return [problem("networks.csv", None, None, "table has no rows: no network to study")] + [
        problem(path, None, column, "refer to networks.csv, which has no rows")
        for path, column in referring
    ]


@case("empty_file")
def _(p: Package):
    """ties.csv is an empty file (0 bytes)."""
    p.raw["ties"] = b""
    return [problem("ties.csv", 1, None, "file is empty: it needs at least a header row")]


@case("not_utf8")
def _(p: Package):
    """organizations.csv is saved as latin-1; row 4's name is `Clinique Bélanger`."""
    orgs = p.frame("organizations")
    orgs.loc[2, "name"] = "Clinique Bélanger"
    p.set_text("organizations", _frame_text(orgs), encoding="latin-1")
    return [problem("organizations.csv", 4, "name", "file is not UTF-8 (byte 0xe9)")]


def _bad_network_id(p: Package, bad: str) -> list[dict]:
    p.frames["networks"].loc[1, "network_id"] = bad
    return [problem("networks.csv", 3, "network_id", f"'{bad}' is not a valid identifier")]


@case("network_id_parent_folder")
def _(p: Package):
    """networks.csv row 3: network_id `../x` (would escape the slices folder)."""
    return _bad_network_id(p, "../x")


@case("network_id_absolute_path")
def _(p: Package):
    """networks.csv row 3: network_id `/abs` (an absolute path)."""
    return _bad_network_id(p, "/abs")


@case("network_id_with_space")
def _(p: Package):
    """networks.csv row 3: network_id `has space`."""
    return _bad_network_id(p, "has space")


@case("follow_up_before_discharge")
def _(p: Package):
    """care_episodes.csv: the first follow-up date is set 3 days before its discharge date."""
    eps = p.frame("care_episodes")
    i = int((eps["follow_up_date"] != "").to_numpy().nonzero()[0][0])
    discharge = pd.Timestamp(eps.loc[i, "discharge_date"])
    eps.loc[i, "follow_up_date"] = f"{discharge - pd.Timedelta(days=3):%Y-%m-%d}"
    return [
        problem(
            "care_episodes.csv",
            i + 2,
            "follow_up_date",
            f"is before the discharge date {discharge:%Y-%m-%d}",
        )
    ]


@case("date_with_slashes")
def _(p: Package):
    """care_episodes.csv row 2: admission_date written `2003/03/06` (as some spreadsheets do)."""
    eps = p.frame("care_episodes")
    value = eps.loc[0, "admission_date"].replace("-", "/")
    eps.loc[0, "admission_date"] = value
    return [
        problem(
            "care_episodes.csv",
            2,
            "admission_date",
            f"expected a date written YYYY-MM-DD, got '{value}'",
        )
    ]


@case("boolean_in_french")
def _(p: Package):
    """networks.csv row 2: has_general_hospital written `non` (French), not a boolean word."""
    p.frames["networks"].loc[0, "has_general_hospital"] = "non"
    return [problem("networks.csv", 2, "has_general_hospital", "expected true or false, got 'non'")]


def _codebook_line(p: Package, row: int, description: str) -> None:
    """Rewrite file line ``row`` of codebook.csv with ``description`` written as is (unquoted)."""
    lines = p.lines("codebook")
    cells = next(csv.reader([lines[row - 1]]))
    first = io.StringIO()
    csv.writer(first, lineterminator="").writerow(cells[:4])
    lines[row - 1] = f"{first.getvalue()},{description}"
    p.set_lines("codebook", lines)


# The next four live in the codebook, whose free-text descriptions are where stray commas
# and quotes happen, and which has no `synthetic` column for the no-real-data hook to miss.
@case("unquoted_comma")
def _(p: Package):
    """codebook.csv row 5: the description holds a comma and is not quoted."""
    _codebook_line(
        p, 5, "Partners see their own interest, and their clients' interest in working together."
    )
    return [problem("codebook.csv", 5, None, "row has 6 cells, but the header has 5")]


@case("unclosed_quote")
def _(p: Package):
    """codebook.csv, last row: the description opens a double quote that is never closed."""
    last = len(p.lines("codebook"))
    _codebook_line(p, last, '"Partners hold compatible views of recovery.')
    return [problem("codebook.csv", last, "description", "opened in this row is never closed")]


@case("stray_quote")
def _(p: Package):
    """codebook.csv row 4: the description opens a double quote closed only by a later row's.

    The rows in between read as part of one value, so row 4 is reported, with the line
    where the quote finally closes.
    """
    _codebook_line(p, 4, '"Partners hold compatible views of recovery.')
    lines = p.lines("codebook")
    closes = next(i for i in range(5, len(lines) + 1) if '"' in lines[i - 1])
    return [problem("codebook.csv", 4, None, f"is not closed until line {closes}")]


@case("short_row")
def _(p: Package):
    """codebook.csv row 6 stops after its label: its last three cells and their commas are gone."""
    lines = p.lines("codebook")
    lines[5] = ",".join(lines[5].split(",")[:2])
    p.set_lines("codebook", lines)
    return [problem("codebook.csv", 6, "category", "empty, but a value is required")]


@case("semicolon_separated")
def _(p: Package):
    """networks.csv is separated by semicolons, as a French-locale spreadsheet saves CSV."""
    p.set_text("networks", p.frame("networks").to_csv(index=False, sep=";", lineterminator="\n"))
    return [problem("networks.csv", 1, None, "columns are separated by ';', not commas")]


@case("blank_line_then_bad_cell")
def _(p: Package):
    """ties.csv: a blank line after row 3, and the cell on file line 7 reads `n/a`.

    Rows are file lines: the problem is on line 7 although it is the fifth tie.
    """
    ties = p.frame("ties")
    ties.loc[4, "transactions_per_year"] = "n/a"
    lines = p.lines("ties")
    p.set_lines("ties", lines[:3] + [""] + lines[3:])
    return [problem("ties.csv", 7, "transactions_per_year", "expected a whole number, got 'n/a'")]


@case("quoted_newline_then_bad_cell")
def _(p: Package):
    """organizations.csv: row 3's name holds a line break (quoted), and file line 6 has a bad type.

    The quoted name spans two lines, so the organization after the next one sits on line 6.
    """
    orgs = p.frame("organizations")
    orgs.loc[1, "name"] = "Community organization 1\n(main office)"
    orgs.loc[3, "organization_type"] = "clinic"
    return [problem("organizations.csv", 6, "organization_type", "'clinic' is not one of")]


@case("row_of_empty_cells")
def _(p: Package):
    """networks.csv ends with a row of empty cells (`,,,,,,,,`), as spreadsheets export."""
    nets = p.frame("networks")
    lines = p.lines("networks")
    p.set_lines("networks", lines + ["," * (len(nets.columns) - 1)])
    row = len(nets) + 2
    return [
        problem("networks.csv", row, column, "empty, but a value is required")
        for column in nets.columns
    ]


@case("descriptor_not_json")
def _(p: Package):
    """datapackage.json is cut short (not valid JSON)."""
    p.descriptor_edit = lambda b: b[: b.index(b'"resources"')]
    return [problem("datapackage.json", None, None, "not valid JSON")]


@case("missing_file")
def _(p: Package):
    """informants.csv is absent."""
    p.raw["informants"] = None
    return [problem("informants.csv", None, None, "file is missing")]


# valid: messy but acceptable ----------------------------------------------------
@case("base", valid=True, same_data_as_base=True)
def _(p: Package):
    """None: the trimmed base every other case derives from."""
    return []


def _encode_every_csv(p: Package, transform: Callable[[bytes], bytes]) -> None:
    for name, data in p.files().items():
        p.raw[name.removesuffix(".csv")] = transform(data)


@case("byte_order_mark", valid=True, same_data_as_base=True)
def _(p: Package):
    """Every CSV file starts with a UTF-8 byte-order mark (Excel's `CSV UTF-8`)."""
    _encode_every_csv(p, lambda b: b"\xef\xbb\xbf" + b)
    return []


@case("descriptor_byte_order_mark", valid=True, same_data_as_base=True)
def _(p: Package):
    """datapackage.json starts with a UTF-8 byte-order mark (as some Windows editors save)."""
    p.descriptor_edit = lambda b: b"\xef\xbb\xbf" + b
    return []


@case("crlf_line_endings", valid=True, same_data_as_base=True)
def _(p: Package):
    """Every CSV file has Windows line endings (CRLF)."""
    _encode_every_csv(p, lambda b: b.replace(b"\n", b"\r\n"))
    return []


@case("trailing_empty_lines", valid=True, same_data_as_base=True)
def _(p: Package):
    """networks.csv and ties.csv end with two empty lines."""
    for name in ("networks", "ties"):
        p.raw[name] = p.text(name).encode() + b"\n\n"
    return []


@case("no_final_newline", valid=True, same_data_as_base=True)
def _(p: Package):
    """Every CSV file lacks the newline after its last row."""
    _encode_every_csv(p, lambda b: b.removesuffix(b"\n"))
    return []


@case("blank_line_in_the_middle", valid=True, same_data_as_base=True)
def _(p: Package):
    """ties.csv has a blank line between two ties."""
    lines = p.lines("ties")
    p.set_lines("ties", lines[:5] + [""] + lines[5:])
    return []


@case("trailing_comma_on_every_row", valid=True, same_data_as_base=True)
def _(p: Package):
    """Every data row of organizations.csv ends with an extra comma (an empty extra cell)."""
    lines = p.lines("organizations")
    p.set_lines("organizations", lines[:1] + [f"{line}," for line in lines[1:]])
    return []


@case("quoted_commas_and_quotes", valid=True)
def _(p: Package):
    """Names hold commas and double quotes, quoted as CSV requires."""
    p.frames["networks"].loc[0, "name"] = 'Réseau "Nord", secteur 1'
    p.frames["organizations"].loc[1, "name"] = "Clinique Dupont, fils et associés"
    p.frames["organizations"].loc[2, "name"] = 'Le "Phare", maison d\'hébergement'
    return []


@case("booleans_yes_and_true", valid=True, same_data_as_base=True)
def _(p: Package):
    """Booleans written Yes/No, TRUE/FALSE and 1/0 (accepted in any case)."""
    nets = p.frame("networks")
    words = {"true": "Yes", "false": "No"}
    for col in ("has_general_hospital", "general_hospital_has_psychiatry"):
        nets[col] = nets[col].map(words)
    nets["has_psychiatric_hospital"] = nets["has_psychiatric_hospital"].map(
        {"true": "TRUE", "false": "FALSE"}
    )
    nets["synthetic"] = nets["synthetic"].map({"true": "1", "false": "0"})
    p.frames["ties"]["synthetic"] = "True"
    return []


@case("network_without_ties", valid=True)
def _(p: Package):
    """rural_002 has no ties at all (its organizations are all isolated)."""
    ties = p.frame("ties")
    p.frames["ties"] = ties[ties["network_id"] != N2]
    return []


@case("empty_ties_table", valid=True)
def _(p: Package):
    """ties.csv holds its header and no rows: no network has ties."""
    p.frames["ties"] = p.frame("ties").iloc[:0]
    return []


@case("setting_with_one_network", valid=True)
def _(p: Package):
    """rural_002 becomes urban/semi-urban, so each setting holds a single network."""
    p.frames["networks"].loc[1, "setting"] = "urban_semi_urban"
    return []


@case("one_network", valid=True)
def _(p: Package):
    """The package holds rural_001 only (every row of rural_002 is dropped)."""
    informants = p.frame("informants")
    dropped = set(informants.loc[informants["network_id"] == N2, "informant_id"])
    for name, df in p.frames.items():
        if "network_id" in df.columns:
            p.frames[name] = df[df["network_id"] != N2]
    segs = p.frame("coded_segments")
    p.frames["coded_segments"] = segs[~segs["informant_id"].isin(dropped)]
    return []


@case("non_latin_names", valid=True)
def _(p: Package):
    """Network, region and organization names in Cyrillic, Chinese and Arabic script."""
    nets = p.frame("networks")
    nets["name"] = ["Сеть психического здоровья Север", "北部精神卫生网络"]
    nets["region"] = ["Северный край", "北部地区"]
    orgs = p.frame("organizations")
    orgs.loc[0, "name"] = "مركز الصحة المجتمعية"
    orgs.loc[1, "name"] = "Общественная организация «Надежда»"
    orgs.loc[11, "name"] = "社区卫生服务中心"
    orgs.loc[12, "name"] = "جمعية الأمل"
    return []


# -- writing ----------------------------------------------------------------------
def _descriptor(name: str, doc: str) -> bytes:
    title, _ = synth.describe(SEED, 2)
    text = descriptor_json(
        f"bad-inputs-{name.replace('_', '-')}",
        f"Bad-input case {name} (SYNTHETIC)",
        "SYNTHETIC DATA derived from " + title + ", trimmed to a few rows per table, "
        "for the bad-input tests of compendium. Modification: " + doc,
    )
    return text.encode("utf-8")


def _doc(fn: Case) -> str:
    return " ".join((fn.__doc__ or "").split())


def write_case(name: str, spec: CaseSpec, root: Path) -> Path:
    p = Package.base()
    problems = spec.make(p)
    assert spec.valid == (not problems), name
    doc = _doc(spec.make)
    out = root / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for filename, data in p.files().items():
        if data is not None:
            (out / filename).write_bytes(data)
    descriptor = _descriptor(name, doc)
    if p.descriptor_edit is not None:
        descriptor = p.descriptor_edit(descriptor)
    (out / DESCRIPTOR).write_bytes(descriptor)
    expected = {"case": name, "modification": doc, "valid": spec.valid}
    if spec.same_data_as_base:
        expected["same_data_as_base"] = True
    if not spec.valid:
        expected["problems"] = problems
    (out / "expected.yaml").write_text(
        yaml.safe_dump(expected, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    return out


def main(root: Path = HERE) -> list[Path]:
    for stale in root.iterdir():
        if stale.is_dir() and (stale / "expected.yaml").exists() and stale.name not in CASES:
            shutil.rmtree(stale)
    return [write_case(name, spec, root) for name, spec in CASES.items()]


if __name__ == "__main__":
    for path in main():
        print(path.relative_to(HERE.parents[1]))
    print(f"{len(CASES)} cases in {HERE}")
