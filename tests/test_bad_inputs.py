"""The catalogue of bad inputs: every loader, command, parameter type, reports.yml and scenario file.

Each case must end the same way: exit code 2, one or two plain sentences on stderr naming the file (and the row
and column where there is one), no traceback, nothing printed on stdout, and nothing in reports/ touched."""

from __future__ import annotations

import hashlib

import pytest

from conftest import ROOT, assert_clean_error, run_cli

VOTES = "list,votes\na,1000\nb,800\nc,300\n"
POLL = ("date,pollster,sample_size,party,seats\n"
        "2022-10-01,P,500,likud,31\n2022-10-01,P,500,yesh_atid,24\n2022-10-01,P,500,labor,65\n")
POLL_SHARE = "date,pollster,sample_size,party,share\n2022-10-01,P,600,a,40\n2022-10-01,P,600,b,60\n"
ROUND = "candidate,votes\nA,400\nB,350\nC,250\n"
SCENARIO = ("title: t\npolls: data/polls/knesset-2022.csv\nas_of: 2022-10-28\nmajority: 61\n"
            "vetoes: [[religious_zionism, raam]]\n")
NB = "notebooks/01_poll_thresholds.ipynb"
NB2 = "notebooks/02_coalition_scenarios.ipynb"
TL = "notebooks/04_timeline.ipynb"
EVENTS_HEAD = "date,actors,category,description\n"

# (id, files to write {name: text or bytes}, arguments (with {d} for the folder), words the message must hold)
CASES = [
    # --- seats and its loaders
    ("votes-missing-file", {}, ["seats", "{d}/nope.csv"], ["nope.csv", "does not exist"]),
    ("votes-empty-file", {"v.csv": ""}, ["seats", "{d}/v.csv"], ["v.csv", "empty"]),
    ("votes-header-only", {"v.csv": "list,votes\n"}, ["seats", "{d}/v.csv"], ["v.csv", "no data rows"]),
    ("votes-binary", {"v.csv": b"\x00\x01\x02PK\x03\x04"}, ["seats", "{d}/v.csv"], ["v.csv", "binary"]),
    ("votes-missing-column", {"v.csv": "list,count\na,1\n"}, ["seats", "{d}/v.csv"], ["v.csv", "'votes'"]),
    ("votes-not-a-number", {"v.csv": VOTES + "d,lots\n"}, ["seats", "{d}/v.csv"],
     ["v.csv", "row 5", "column 'votes'", "lots"]),
    ("votes-negative", {"v.csv": VOTES + "d,-3\n"}, ["seats", "{d}/v.csv"], ["v.csv", "row 5", "'votes'"]),
    ("votes-fraction", {"v.csv": VOTES + "d,12.5\n"}, ["seats", "{d}/v.csv"], ["v.csv", "row 5", "'votes'"]),
    ("votes-nan", {"v.csv": VOTES + "d,NaN\n"}, ["seats", "{d}/v.csv"], ["v.csv", "row 5", "'votes'"]),
    ("votes-duplicate-list", {"v.csv": VOTES + "a,5\n"}, ["seats", "{d}/v.csv"], ["v.csv", "row 5", "'a'"]),
    ("votes-all-zero", {"v.csv": "list,votes\na,0\nb,0\n"}, ["seats", "{d}/v.csv"], ["v.csv"]),
    ("seats-threshold-100", {"v.csv": VOTES}, ["seats", "{d}/v.csv", "--threshold", "100"], ["threshold"]),
    ("seats-threshold-negative", {"v.csv": VOTES}, ["seats", "{d}/v.csv", "--threshold", "-1"], ["threshold"]),
    ("seats-zero-seats", {"v.csv": VOTES}, ["seats", "{d}/v.csv", "--seats", "0"], ["seats"]),
    ("seats-unknown-method", {"v.csv": VOTES}, ["seats", "{d}/v.csv", "--method", "borda"], ["method"]),
    ("agreement-unknown-list", {"v.csv": VOTES, "p.csv": "list_a,list_b\na,zz\n"},
     ["seats", "{d}/v.csv", "--agreements", "{d}/p.csv"], ["p.csv", "zz"]),
    ("list-in-two-agreements", {"v.csv": VOTES, "p.csv": "list_a,list_b\na,b\na,c\n"},
     ["seats", "{d}/v.csv", "--agreements", "{d}/p.csv"], ["p.csv", "'a'"]),
    ("agreements-missing-column", {"v.csv": VOTES, "p.csv": "a,b\nx,y\n"},
     ["seats", "{d}/v.csv", "--agreements", "{d}/p.csv"], ["p.csv", "list_a"]),
    ("votes-not-utf8", {"v.csv": "list,votes\nPer\xe9,5\n".encode("latin-1")}, ["seats", "{d}/v.csv"],
     ["v.csv", "UTF-8"]),
    # --- coalitions
    ("seats-negative", {"s.csv": "party,seats\na,70\nb,-5\n"}, ["coalitions", "{d}/s.csv"],
     ["s.csv", "row 3", "'seats'"]),
    ("veto-unknown-party", {"s.csv": "party,seats\nlikud,64\nshas,56\n"},
     ["coalitions", "{d}/s.csv", "--veto", "Likkud,shas"], ["Likkud", "likud"]),
    ("require-unknown-party", {"s.csv": "party,seats\nlikud,64\nshas,56\n"},
     ["coalitions", "{d}/s.csv", "--require", "meretz"], ["meretz"]),
    ("veto-not-a-pair", {"s.csv": "party,seats\nlikud,64\nshas,56\n"},
     ["coalitions", "{d}/s.csv", "--veto", "likud"], ["--veto", "likud"]),
    ("seats-duplicate-party", {"s.csv": "party,seats\nlikud,64\nLikud,56\n"}, ["coalitions", "{d}/s.csv"],
     ["s.csv", "row 3"]),
    # --- primary
    ("primary-all-zero", {"r.csv": "candidate,votes\nA,0\nB,0\n"}, ["primary", "{d}/r.csv"], ["r.csv"]),
    ("primary-duplicate-candidate", {"r.csv": ROUND + "A,5\n"}, ["primary", "{d}/r.csv"], ["r.csv", "row 5"]),
    ("primary-fraction", {"r.csv": ROUND + "D,2.5\n"}, ["primary", "{d}/r.csv"], ["r.csv", "row 5", "'votes'"]),
    ("primary-threshold-0", {"r.csv": ROUND}, ["primary", "{d}/r.csv", "--threshold", "0"], ["threshold"]),
    ("primary-threshold-101", {"r.csv": ROUND}, ["primary", "{d}/r.csv", "--threshold", "101"], ["threshold"]),
    # --- simulate and the polls loader
    ("polls-impossible-date", {"p.csv": POLL.replace("2022-10-01,P,500,labor", "2022-02-30,P,500,labor")},
     ["simulate", "{d}/p.csv"], ["p.csv", "row 4", "'date'"]),
    ("polls-negative-seats", {"p.csv": POLL.replace("labor,65", "labor,-3")}, ["simulate", "{d}/p.csv"],
     ["p.csv", "row 4", "'seats'", "-3"]),
    ("polls-share-150", {"p.csv": POLL_SHARE.replace("b,60", "b,150")}, ["simulate", "{d}/p.csv"],
     ["p.csv", "row 3", "'share'"]),
    ("polls-shares-far-from-100", {"p.csv": POLL_SHARE.replace("a,40", "a,240")}, ["simulate", "{d}/p.csv"],
     ["p.csv"]),
    ("polls-no-share-or-seats", {"p.csv": "date,pollster,sample_size,party\n2022-10-01,P,5,a\n"},
     ["simulate", "{d}/p.csv"], ["p.csv", "share", "seats"]),
    ("polls-duplicate-party", {"p.csv": POLL + "2022-10-01,P,500,likud,3\n"}, ["simulate", "{d}/p.csv"],
     ["p.csv", "row 5"]),
    ("polls-sample-size-fraction", {"p.csv": POLL.replace(",500,labor", ",50.5,labor")},
     ["simulate", "{d}/p.csv"], ["p.csv", "row 4", "'sample_size'"]),
    ("simulate-zero-draws", {"p.csv": POLL_SHARE}, ["simulate", "{d}/p.csv", "--draws", "0"], ["draws"]),
    ("simulate-threshold-100", {"p.csv": POLL_SHARE}, ["simulate", "{d}/p.csv", "--threshold", "100"],
     ["threshold"]),
    # --- run and params: every parameter type
    ("run-unknown-parameter", {}, ["run", NB, "-p", "nosuch", "1", "-o", "{d}/x.html"], ["nosuch"]),
    ("run-int-parameter-text", {}, ["run", NB, "-p", "draws", "many", "-o", "{d}/x.html"], ["draws", "many"]),
    ("run-float-parameter-text", {}, ["run", NB, "-p", "threshold", "low", "-o", "{d}/x.html"], ["threshold"]),
    ("run-threshold-out-of-range", {}, ["run", NB, "-p", "threshold", "150", "-o", "{d}/x.html"],
     ["threshold", "150"]),
    ("run-bool-parameter-text", {}, ["run", NB, "-p", "adjust_house_effects", "perhaps", "-o", "{d}/x.html"],
     ["adjust_house_effects"]),
    ("run-bad-date", {}, ["run", NB, "-p", "as_of", "2022-13-01", "-o", "{d}/x.html"], ["as_of", "2022-13-01"]),
    ("run-negative-seed", {}, ["run", NB, "-p", "seed", "-1", "-o", "{d}/x.html"], ["seed"]),
    ("run-bad-events-file", {"e.csv": EVENTS_HEAD + "2007-05-28,A,war,x\n2007-02-30,B,war,y\n"},
     ["run", TL, "-p", "events", "{d}/e.csv", "-o", "{d}/x.html"], ["e.csv", "row 3", "'date'"]),
    ("run-bad-polls-file", {"p.csv": POLL.replace("labor,65", "labor,six")},
     ["run", NB, "-p", "polls", "{d}/p.csv", "-o", "{d}/x.html"], ["p.csv", "row 4", "'seats'"]),
    ("run-missing-notebook", {}, ["run", "notebooks/nope.ipynb", "-o", "{d}/x.html"], ["nope.ipynb"]),
    ("run-output-not-html", {}, ["run", TL, "-o", "{d}/x.txt"], ["x.txt"]),
    ("params-not-a-notebook", {"n.ipynb": "{not json"}, ["params", "{d}/n.ipynb"], ["n.ipynb"]),
    # --- scenario files
    ("scenario-unknown-party", {"s.yml": SCENARIO.replace("raam]]", "Likkud]]")},
     ["run", NB2, "-p", "scenario", "{d}/s.yml", "-o", "{d}/x.html"], ["s.yml", "Likkud", "likud"]),
    ("scenario-invalid-yaml", {"s.yml": "title: [unclosed\n"},
     ["run", NB2, "-p", "scenario", "{d}/s.yml", "-o", "{d}/x.html"], ["s.yml", "YAML"]),
    ("scenario-unknown-key", {"s.yml": SCENARIO + "colour: red\n"},
     ["run", NB2, "-p", "scenario", "{d}/s.yml", "-o", "{d}/x.html"], ["s.yml", "colour"]),
    ("scenario-bad-majority", {"s.yml": SCENARIO.replace("majority: 61", "majority: sixty")},
     ["run", NB2, "-p", "scenario", "{d}/s.yml", "-o", "{d}/x.html"], ["s.yml", "majority"]),
    ("scenario-missing-polls", {"s.yml": SCENARIO.replace("knesset-2022.csv", "nope.csv")},
     ["run", NB2, "-p", "scenario", "{d}/s.yml", "-o", "{d}/x.html"], ["nope.csv"]),
    # --- reports.yml
    ("config-invalid-yaml", {"r.yml": "reports: [\n"}, ["build", "--config", "{d}/r.yml", "--out", "{d}/out"],
     ["r.yml", "YAML"]),
    ("config-missing-notebook", {"r.yml": "reports:\n  - {name: a, notebook: notebooks/nope.ipynb}\n"},
     ["build", "--config", "{d}/r.yml", "--out", "{d}/out"], ["r.yml", "nope.ipynb"]),
    ("config-unknown-parameter", {"r.yml": f"reports:\n  - {{name: a, notebook: {TL}, parameters: {{x: 1}}}}\n"},
     ["build", "--config", "{d}/r.yml", "--out", "{d}/out"], ["r.yml", "'x'"]),
    ("config-duplicate-names",
     {"r.yml": f"reports:\n  - {{name: a, notebook: {TL}}}\n  - {{name: a, notebook: {TL}}}\n"},
     ["build", "--config", "{d}/r.yml", "--out", "{d}/out"], ["r.yml", "'a'", "twice"]),
    ("config-wrong-type", {"r.yml": f"reports:\n  - {{name: a, notebook: {NB}, parameters: {{draws: many}}}}\n"},
     ["build", "--config", "{d}/r.yml", "--out", "{d}/out"], ["r.yml", "draws"]),
    ("config-bad-data-file",
     {"r.yml": f"reports:\n  - {{name: a, notebook: {TL}, parameters: {{events: '{{d}}/e.csv'}}}}\n",
      "e.csv": EVENTS_HEAD + "2007-05-28,,war,x\n"},
     ["build", "--config", "{d}/r.yml", "--out", "{d}/out"], ["e.csv", "row 2", "'actors'"]),
    ("build-only-unknown", {}, ["build", "--only", "nosuch", "--out", "{d}/out"], ["nosuch"]),
    ("build-zero-jobs", {}, ["build", "--jobs", "0", "--out", "{d}/out"], ["--jobs"]),
]


def _digest(folder):
    if not folder.exists():
        return None
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_exit_2_with_one_clear_sentence(case, tmp_path):
    _, files, args, needles = case
    for name, content in files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content.replace("{d}", str(tmp_path)), encoding="utf-8")
    reports = ROOT / "reports"
    before = _digest(reports)
    proc = run_cli(*[a.replace("{d}", str(tmp_path)) for a in args])
    assert_clean_error(proc, *needles)
    assert proc.stdout == ""
    assert _digest(reports) == before, "reports/ was touched"
    assert not (tmp_path / "x.html").exists() and not (tmp_path / "out").exists()
