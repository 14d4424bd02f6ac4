"""What a what-if step does to politics: who runs, the agreements, vetoes, blocs and coalitions after it."""

from __future__ import annotations

from dataclasses import dataclass

from helpers.core.errors import DataError
from helpers.data.scenarios.types import Scenario, Step


class StepProblem(DataError):
    """A step that cannot apply at its point (a list not running, an agreement that does not exist). `at` is
    the place inside the step (e.g. ('from',)) the problem is about."""

    def __init__(self, problem: str, at: tuple = ()):
        super().__init__(problem)
        self.problem = problem
        self.at = at


def _swap(items, old: set, new: list) -> tuple:
    """`items` with the members of `old` replaced by `new`, at the first old member's place."""
    out, placed = [], False
    for x in items:
        if x in old:
            if not placed:
                out.extend(n for n in new if n not in out)
                placed = True
        elif x not in out:
            out.append(x)
    return tuple(out)


@dataclass(frozen=True)
class Politics:
    """Who runs and how they relate, at one point of a what-if (party keys throughout).

    running: the lists on the ballot, in order. agreements: surplus-vote pairs of running lists. vetoes,
    required, excluded, blocs, coalitions: as in :class:`Scenario`. threshold: percent of valid votes. labels:
    display names of lists a what-if created. :meth:`after` gives the politics after one step (the rules in
    the module docstring); the seat model applies the same steps to vote shares."""

    running: tuple[str, ...]
    agreements: tuple[tuple[str, str], ...]
    vetoes: tuple[tuple[str, str], ...]
    required: tuple[str, ...]
    excluded: tuple[str, ...]
    blocs: tuple[tuple[str, tuple[str, ...]], ...]
    coalitions: tuple[tuple[str, tuple[str, ...]], ...]
    threshold: float
    labels: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, scenario: Scenario, running) -> Politics:
        """The base politics of `scenario` with these lists running (its agreements kept where both lists
        run)."""
        running = tuple(running)
        live = set(running)
        return cls(running=running,
                   agreements=tuple((a, b) for a, b in scenario.agreements if a in live and b in live),
                   vetoes=tuple(scenario.vetoes), required=tuple(scenario.required),
                   excluded=tuple(scenario.excluded),
                   blocs=tuple((k, tuple(v)) for k, v in scenario.blocs.items()),
                   coalitions=tuple((k, tuple(v)) for k, v in scenario.coalitions.items()),
                   threshold=scenario.threshold)

    def bloc_map(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.blocs}

    def coalition_map(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.coalitions}

    def _need(self, key: str, at: tuple) -> None:
        if key not in self.running:
            running = ", ".join(self.running)
            raise StepProblem(f"'{key}' is not running at this step (running: {running}).", at)

    def _replace(self, old: set, new: list, *, agreements=None, **changes) -> Politics:
        from dataclasses import replace

        vetoes = []
        for a, b in self.vetoes:
            for x in ([a] if a not in old else new):
                for y in ([b] if b not in old else new):
                    if x != y and {x, y} not in [set(v) for v in vetoes]:
                        vetoes.append((x, y))

        def carry(group):
            return _swap(group, old, new) if old & set(group) else tuple(group)

        return replace(
            self, vetoes=tuple(vetoes),
            required=carry(self.required), excluded=carry(self.excluded),
            blocs=tuple((k, carry(v)) for k, v in self.blocs),
            coalitions=tuple((k, carry(v)) for k, v in self.coalitions),
            agreements=self.agreements if agreements is None else tuple(agreements), **changes)

    def after(self, step: Step) -> Politics:
        """The politics after `step`; StepProblem when it cannot apply here."""
        from dataclasses import replace

        kind, at = step.kind, (step.kind,)
        if kind == "move":
            for k, where in zip(step.parties, ("from", "to"), strict=True):
                self._need(k, (where,))
            return self
        if kind == "merge":
            for i, k in enumerate(step.parties):
                self._need(k, (*at, i))
            if step.into in self.running and step.into not in step.parties:
                raise StepProblem(f"'{step.into}' is already running; merge into one of the members or a new "
                                  "key.", ("into",))
            members = set(step.parties)
            pairs, carried = [], []
            for pr in self.agreements:
                inside = [x for x in pr if x in members]
                if not inside:
                    pairs.append(pr)
                elif len(inside) == 1:
                    carried.append(next(x for x in pr if x not in members))
            if carried:
                pairs.append((step.into, carried[0]))
            # blocs: the joint list takes the place of its first member that sits in a bloc
            first_in_bloc = next((m for m in step.parties if any(m in v for _, v in self.blocs)), None)
            out = self._replace(members, [step.into], agreements=pairs,
                                running=_swap(self.running, members, [step.into]),
                                labels=self._label(step.into, step.label))
            if first_in_bloc is not None:
                blocs = []
                for k, v in self.blocs:
                    if first_in_bloc in v:
                        blocs.append((k, _swap(v, members, [step.into])))
                    else:
                        blocs.append((k, tuple(x for x in v if x not in members)))
                out = replace(out, blocs=tuple(blocs))
            return out
        if kind == "split":
            party = step.parties[0]
            self._need(party, at)
            parts = [k for k, _ in step.parts]
            for k in parts:
                if k in self.running and k != party:
                    raise StepProblem(f"'{k}' is already running; split into new keys or lists that are not "
                                      "running.", ("into", k))
            labels = dict(self.labels)
            labels.update(dict(step.labels))
            return self._replace({party}, parts, agreements=[p for p in self.agreements if party not in p],
                                 running=_swap(self.running, {party}, parts), labels=tuple(labels.items()))
        if kind == "drop":
            party = step.parties[0]
            self._need(party, at)
            for k, _ in step.parts:
                self._need(k, ("to", k))
            return self._replace({party}, [], agreements=[p for p in self.agreements if party not in p],
                                 running=tuple(k for k in self.running if k != party))
        if kind == "run":
            party = step.parties[0]
            if party in self.running:
                raise StepProblem(f"'{party}' is already running.", at)
            for k, _ in step.parts:
                self._need(k, ("from", k))
            blocs = tuple((k, (*v, party) if k == step.bloc else v) for k, v in self.blocs)
            return replace(self, running=(*self.running, party), blocs=blocs,
                           labels=self._label(party, step.label))
        if kind == "agreement_add":
            for i, k in enumerate(step.parties):
                self._need(k, (*at, i))
                held = next((p for p in self.agreements if k in p), None)
                if held:
                    raise StepProblem(f"'{k}' already has a surplus agreement ({held[0]}–{held[1]}); a list "
                                      "may sign one, so remove that one first with agreement_remove.",
                                      (*at, i))
            return replace(self, agreements=(*self.agreements, step.parties))
        if kind == "agreement_remove":
            a, b = step.parties
            if not any(set(p) == {a, b} for p in self.agreements):
                listed = ", ".join(f"{x}–{y}" for x, y in self.agreements) or "none"
                raise StepProblem(f"there is no surplus agreement {a}–{b} to remove (the agreements at this "
                                  f"step: {listed}).", at)
            return replace(self, agreements=tuple(p for p in self.agreements if set(p) != {a, b}))
        if kind == "veto_add":
            a, b = step.parties
            if any(set(v) == {a, b} for v in self.vetoes):
                raise StepProblem(f"the veto {a}–{b} is already in place.", at)
            if a in self.required and b in self.required:
                raise StepProblem(f"{a} and {b} are both required, so a veto between them leaves no "
                                  "coalition.", at)
            return replace(self, vetoes=(*self.vetoes, (a, b)))
        if kind == "veto_remove":
            a, b = step.parties
            if not any(set(v) == {a, b} for v in self.vetoes):
                raise StepProblem(f"there is no veto {a}–{b} to remove.", at)
            return replace(self, vetoes=tuple(v for v in self.vetoes if set(v) != {a, b}))
        if kind == "threshold":
            return replace(self, threshold=float(step.amount))
        raise StepProblem(f"unknown step '{kind}'.", at)

    def _label(self, key: str, label: str | None) -> tuple:
        labels = dict(self.labels)
        if label:
            labels[key] = label
        return tuple(labels.items())
