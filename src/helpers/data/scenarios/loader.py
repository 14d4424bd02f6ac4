"""The scenario loader: :func:`load_scenario` reads a scenario file, checks it and resolves its names."""

from __future__ import annotations

import datetime as dt
import os

from helpers.core import paths
from helpers.core.errors import DataError
from helpers.core.limits import MAX_SEATS
from helpers.core.text import normalise_name
from helpers.core.threshold import Threshold, parse_threshold
from helpers.data import schema
from helpers.data._names import NameIndex
from helpers.data._table import parse_date
from helpers.data.scenarios.names import _Names, _new_or_known, _pair, _parties, _party, _percent_map, _vetoes
from helpers.data.scenarios.politics import Politics, StepProblem
from helpers.data.scenarios.shape import _Doc, _kind, _number, _text, _threshold, _whole
from helpers.data.scenarios.types import DEFAULT_SEATS, DEFAULT_THRESHOLD, STEP_KEYS, Scenario, Step, WhatIf


def _date(doc: _Doc, value, path: tuple) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return parse_date(value).isoformat()
        except ValueError:
            pass
    raise doc.fail(path, f"{_kind(value)} is not a date written YYYY-MM-DD.")


def _file(doc: _Doc, value, key: str, load, registry=None):
    """Load a file named in the scenario with its own loader; its error is prefixed with where it is named."""
    text = _text(doc, value, (key,), "a file path (relative to the project root)")
    try:
        return text, (load(text, parties=registry) if registry is not None else load(text))
    except DataError as exc:
        line = doc.line((key,))
        raise DataError(f"{doc.name}, {key} (line {line}): {exc}") from None


def load_scenario(path: str | os.PathLike) -> Scenario:
    """Read and check a scenario file (see the module docstring for its keys and what-if steps).

    Loads the files it names (polls or results, agreements) with their loaders and dry-runs every what-if
    against the base's lists. Raises DataError naming the file, the place and its line."""
    from helpers.data import knesset
    from helpers.data._table import read_yaml
    from helpers.data.polls import default_parties, load_polls, merges_of
    from helpers.data.rules import load_rules

    p = paths.resolve(path)
    # read_yaml refuses anything but a regular file, anchors and aliases, and a key twice in one mapping
    data, root = read_yaml(p, "a scenario file (YAML)", tree=True)
    doc = _Doc(p, root)
    if isinstance(data, dict) and isinstance(data.get("what_if"), list):  # places name their what-if
        doc.names.update({("what_if", i): w["name"] for i, w in enumerate(data["what_if"])
                          if isinstance(w, dict) and isinstance(w.get("name"), str)})
    # the shape (keys, types, lists that may not be empty): schemas/scenario.schema.json; the meaning below
    schema.check(data, "scenario", doc.name, root, where=doc.place)

    title = _text(doc, data["title"], ("title",)) if data.get("title") is not None else p.stem
    description = _text(doc, data["description"], ("description",)) if data.get("description") else ""

    # --- the subject: a rules file gives the house's rules and the party registry names resolve against
    rules_file = rules = None
    if data.get("rules") is not None:
        rules_file, rules = _file(doc, data["rules"], "rules", load_rules)
    registry = rules.registry() if rules is not None else default_parties()
    # --- the base
    if ("polls" in data) == ("results" in data):
        raise DataError(f"{doc.name}: a scenario needs one base: 'polls:' (a polls file) with 'as_of:', or "
                        f"'results:' (an official votes file); it has "
                        f"{'both' if 'polls' in data else 'neither'}.")
    polls_file = results_file = as_of = None
    base_lists: list[str] = []
    base_labels: dict[str, str] = {}
    total_votes = None
    if "polls" in data:
        polls_file, frame = _file(doc, data["polls"], "polls", load_polls, registry)
        if data.get("as_of") is None:
            raise doc.fail(("polls",), "a polls base needs 'as_of:', the last publication date to use "
                                       "(YYYY-MM-DD).")
        as_of = _date(doc, data["as_of"], ("as_of",))
        first = frame["date"].min().date().isoformat()
        if first > as_of:
            raise doc.fail(("as_of",), f"no poll in {polls_file} was published by {as_of} (the first is "
                                       f"dated {first}).")
        merges = merges_of(registry, frame["party"].unique())
        for key in dict.fromkeys(frame["party"]):
            base_lists.extend(merges.get(key, [key]))
        base_lists = list(dict.fromkeys(base_lists))
    else:
        results_file, frame = _file(doc, data["results"], "results", knesset.load_votes)
        base_lists = [str(x) for x in frame["list"]]
        if "name" in frame.columns:
            base_labels = dict(zip(base_lists, frame["name"].astype(str), strict=True))
        total_votes = int(frame["votes"].sum())
        as_of = _date(doc, data["as_of"], ("as_of",)) if data.get("as_of") is not None else None
    names = _Names(registry, base_lists, base_labels)

    seats = (_whole(doc, data["seats"], ("seats",), f"a whole number of seats > 0 and at most {MAX_SEATS:,}",
                    1, MAX_SEATS)
             if data.get("seats") is not None else rules.seats if rules is not None else DEFAULT_SEATS)
    # the threshold words of the kit's one reader; quotas are of the scenario's seats, so they come first
    if data.get("threshold") is not None:
        limit = _threshold(doc, data["threshold"], ("threshold",), seats)
    elif rules is not None and seats == rules.seats:
        limit = Threshold(rules.threshold, rules.threshold_text)
    elif rules is not None:  # the rules' words again, for this many seats ("1 quota" of this house)
        try:
            limit = parse_threshold(rules.threshold_words, f"{rules.path}, threshold", seats=seats)
        except DataError as exc:
            raise doc.fail(("seats",), f"{seats:,} seats do not fit the rules' threshold: {exc}") from None
    else:
        limit = _threshold(doc, DEFAULT_THRESHOLD, (), seats)
    threshold = float(limit.percent)
    majority = (_whole(doc, data["majority"], ("majority",),
                       f"a whole number of seats > 0 and at most {seats}", 1, seats)
                if data.get("majority") is not None else
                rules.majority if rules is not None and seats == rules.seats else seats // 2 + 1)
    agreements_file, pairs = None, []
    if data.get("agreements") is not None:
        if rules is not None and rules.agreements_method is None:
            raise doc.fail(("agreements",), f"{rules.path} says this house has no surplus-vote agreements "
                                            "(agreements: none); leave 'agreements:' out or use other rules.")
        agreements_file, pairs = _file(doc, data["agreements"], "agreements", knesset.load_pairs)
    poll_error = (_number(doc, data["poll_error"], ("poll_error",),
                          "a number of percentage points from 0 to 50", 0, 50)
                  if data.get("poll_error") is not None else None)
    valid_votes = (_whole(doc, data["valid_votes"], ("valid_votes",), "a whole number of votes > 0", 1)
                   if data.get("valid_votes") is not None else total_votes)

    # --- the politics
    vetoes: list[tuple[str, str]] = []
    for i, item in enumerate(data.get("vetoes") or []):
        for pair in _vetoes(doc, names, item, ("vetoes", i)):
            if set(pair) in [set(v) for v in vetoes]:
                raise doc.fail(("vetoes", i), f"the veto {pair[0]}–{pair[1]} is already listed.")
            vetoes.append(pair)
    required = _parties(doc, names, data.get("required") or [], ("required",))
    excluded = _parties(doc, names, data.get("excluded") or [], ("excluded",))
    both = [k for k in required if k in excluded]
    if both:
        raise doc.fail(("excluded",), f"'{both[0]}' is both required and excluded.")
    for a, b in vetoes:
        if a in required and b in required:
            raise doc.fail(("vetoes",), f"{a} and {b} are both required but will not sit together, so no "
                                        "coalition is possible.")
    blocs = _groups(doc, names, data.get("blocs"), "blocs", disjoint=True)
    coalitions = _groups(doc, names, data.get("coalitions"), "coalitions", disjoint=False)

    # --- the what-ifs
    what_if: list[WhatIf] = []
    seen: dict[str, int] = {}
    draft = Scenario(path=paths.display(p), title=title, polls=polls_file, results=results_file, as_of=as_of,
                     threshold=threshold, seats=seats, majority=majority, agreements_file=agreements_file,
                     agreements=list(pairs), poll_error=poll_error, valid_votes=valid_votes, vetoes=vetoes,
                     required=required, excluded=excluded, blocs=blocs, coalitions=coalitions, what_if=[],
                     description=description, base_lists=base_lists, rules=rules_file,
                     method=rules.allocation_method(bool(pairs)) if rules is not None else None,
                     parties=rules.parties if rules is not None else None, threshold_percent=limit.percent,
                     threshold_text=limit.text)
    base = Politics.of(draft, base_lists)
    for i, item in enumerate(data.get("what_if") or []):
        here = ("what_if", i)
        name = normalise_name(_text(doc, item["name"], (*here, "name"), "a name (text)"))
        if name.casefold() in seen or name.casefold() == "base":
            raise doc.fail((*here, "name"), f"the name '{name}' is "
                                            + ("reserved for the base." if name.casefold() == "base" else
                                               f"already used by what_if[{seen[name.casefold()]}]."))
        seen[name.casefold()] = i
        state = base
        local = names.copy()
        steps = []
        for j, raw in enumerate(item["steps"]):
            step = _step(doc, local, raw, (*here, "steps", j), seats, blocs)
            try:
                state = state.after(step)
            except StepProblem as exc:
                raise doc.fail((*here, "steps", j, *exc.at), exc.problem) from None
            steps.append(step)
        what_if.append(WhatIf(name, tuple(steps),
                              _text(doc, item["description"], (*here, "description"))
                              if item.get("description") else ""))
        names.labels.update({k: v for k, v in local.labels.items() if k not in names.labels})

    draft.what_if = what_if
    draft.labels = dict(names.labels)
    return draft


def _groups(doc: _Doc, names: _Names, value, key: str, *, disjoint: bool) -> dict[str, list[str]]:
    if value is None:
        return {}
    out: dict[str, list[str]] = {}
    owner: dict[str, str] = {}
    for name, members in value.items():
        label = normalise_name(_text(doc, name, (key, name), "a name"))
        keys = _parties(doc, names, members, (key, name))
        if disjoint:
            for k in keys:
                if k in owner:
                    raise doc.fail((key, name), f"'{k}' is already in the bloc '{owner[k]}'; a party may be "
                                                "in one bloc only.")
                owner[k] = label
        out[label] = keys
    return out


def _step(doc: _Doc, names: _Names, raw, path: tuple, seats: int, blocs: dict) -> Step:
    """One step (its shape checked by the schema: one action and that action's keys), with its amounts checked
    and its names resolved (new lists become known to `names`)."""
    kind = next(str(k) for k in raw if str(k) in STEP_KEYS)
    value = raw[kind]
    here = (*path, kind)

    if kind == "move":
        unit = raw.get("unit", "points")
        amount = _number(doc, value, here, f"an amount of {unit} above 0", 0, None, low_open=True)
        a = _party(doc, names, raw["from"], (*path, "from"))
        b = _party(doc, names, raw["to"], (*path, "to"))
        if a == b:
            raise doc.fail(path, f"moves votes from {a} to itself.")
        points = amount * 100.0 / seats if unit == "seats" else amount
        return Step("move", (a, b), amount=points, text=f"move {amount:g} {unit} from {a} to {b}")
    if kind == "merge":
        members = _parties(doc, names, value, here)
        into = _new_or_known(doc, names, raw["into"], (*path, "into")) if raw.get("into") is not None \
            else members[0]
        label = _text(doc, raw["label"], (*path, "label")) if raw.get("label") is not None else None
        keep = (_number(doc, raw["keep"], (*path, "keep"), "a percentage above 0 and at most 200", 0, 200,
                        low_open=True) if raw.get("keep") is not None else 100.0)
        if label is None and into not in names.labels:
            label = " + ".join(names.labels.get(m, m) for m in members)
        names.add(into, label)
        return Step("merge", tuple(members), into=into, amount=keep, label=label or names.labels.get(into),
                    text=f"merge {', '.join(members)} into {into}")
    if kind == "split":
        party = _party(doc, names, value, here)
        labels_raw = raw.get("labels") or {}
        parts = _percent_map(doc, names, raw["into"], (*path, "into"), total=100.0, new_keys=True)
        if len(parts) < 2:
            raise doc.fail((*path, "into"), "a split needs two lists or more.")
        labels = {}
        for k, v in labels_raw.items():
            if str(k) not in parts:
                raise doc.fail((*path, "labels", k), f"'{k}' is not one of the split's lists "
                                                     f"({', '.join(parts)}).")
            labels[str(k)] = _text(doc, v, (*path, "labels", k))
        for k in parts:
            names.add(k, labels.get(k))
        return Step("split", (party,), parts=tuple(parts.items()), labels=tuple(labels.items()),
                    text=f"split {party} into {', '.join(parts)}")
    if kind == "drop":
        party = _party(doc, names, value, here)
        parts = _percent_map(doc, names, raw["to"], (*path, "to")) if raw.get("to") is not None else {}
        if party in parts:
            raise doc.fail((*path, "to"), f"sends {party}'s votes to itself.")
        return Step("drop", (party,), parts=tuple(parts.items()), text=f"drop {party}")
    if kind == "run":
        party = _new_or_known(doc, names, value, here)
        share = _number(doc, raw["share"], (*path, "share"), "a percentage above 0 and below 100", 0, 100,
                        low_open=True, high_open=True)
        parts = _percent_map(doc, names, raw["from"], (*path, "from")) if raw.get("from") is not None else {}
        label = _text(doc, raw["label"], (*path, "label")) if raw.get("label") is not None else None
        bloc = None
        if raw.get("bloc") is not None:
            bloc = _text(doc, raw["bloc"], (*path, "bloc"))
            match = NameIndex.of(blocs, first_wins=True).find(bloc)
            if match is None:
                raise doc.fail((*path, "bloc"), f"unknown bloc '{bloc}'; the scenario's blocs are "
                                                f"{', '.join(blocs) or 'none'}.")
            bloc = match
        names.add(party, label)
        return Step("run", (party,), parts=tuple(parts.items()), amount=share, label=label or
                    names.labels.get(party), bloc=bloc, text=f"run {party} at {share:g}%")
    if kind in ("agreement_add", "agreement_remove", "veto_add", "veto_remove"):
        pair = _pair(doc, names, value, here)
        return Step(kind, pair, text=f"{kind.replace('_', ' ')} {pair[0]}–{pair[1]}")
    # threshold
    limit = _threshold(doc, value, here, seats)
    return Step("threshold", amount=float(limit.percent), text=f"threshold {limit.text}")
