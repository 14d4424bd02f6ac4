"""How wrong a poll of polls can be on election day: the kit's error models and their fitted parameters.

Two models (``simulate --error-model``, every notebook's ``error_model``):

- ``historical`` (the default): each list's share moves on a **proportional** scale. A draw multiplies list
  *k*'s share by ``exp(sd_k * z_k)`` (then all shares are scaled back to 100%), where ``z_k`` is a standard
  normal and ``sd_k = scale * (p_k / REFERENCE_SHARE) ** -power`` grows more slowly than the share ``p_k``
  (percent) itself: in points, a list's error is about ``scale * p_k ** (1 - power)``, so small lists miss by
  less than big ones, no share is ever pushed below 0, and nothing has to be clipped or centred. ``scale`` and
  ``power`` are fitted by maximum likelihood on the eve-of-election polls of past elections against the
  official results, after the sampling error of the pooled polls (:func:`helpers.models.polls.
  pooled_sample_size`) is taken out: see :mod:`helpers.models.calibration` and ``docs/model-fit.md``.
- ``sampling``: sampling error of the pooled polls only (no election-day error).

Both use the fitted ``others`` (percent of valid votes cast for lists no poll lists: the threshold is tested
against all valid votes) and ``below_fraction`` (where a list that every poll puts below the line ends up, as
a fraction of the line). The fitted values live in ``fitted.json`` beside this module, written by
``ballotbook calibrate --write`` from the project's ``data/model/elections.csv``; a test recomputes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from helpers.core.errors import DataError

#: The share (percent) at which ``scale`` is the log-scale standard deviation.
REFERENCE_SHARE = 5.0
#: Shares below this (percent) take the error of a list of this size (the power law is not fitted below it).
SMALLEST_SHARE = 0.5
#: The largest error drawn, in units of ``sd``: a Student-t's rare huge values are clipped here. Six units is
#: about the largest miss on record (Gil 2006: polled 1.9%, won 5.9%, a log error of 1.14 where sd was about
#: 0.19); without the clip a t with 4 degrees of freedom now and then turns a 2% list into a majority.
TAIL_LIMIT = 6.0
#: The names ``--error-model`` accepts.
NAMES = ("historical", "sampling")
FITTED_FILE = Path(__file__).with_name("fitted.json")


@dataclass(frozen=True)
class ErrorModel:
    """An election-day error model: ``name``, ``scale`` and ``power`` (see the module docstring; scale 0
    means sampling error only), ``others`` (percent), ``below_fraction`` (0-1), and what it was fitted on."""

    name: str
    scale: float
    power: float
    others: float
    below_fraction: float
    dof: float = float("inf")
    fitted_on: tuple[str, ...] = ()
    fit: dict = field(default_factory=dict, compare=False)

    def sd(self, shares) -> np.ndarray:
        """The log-scale standard deviation of each list's election-day error (shares in percent)."""
        p = np.maximum(np.asarray(shares, dtype=float), SMALLEST_SHARE)
        if self.scale == 0:
            return np.zeros_like(p)
        return self.scale * (p / REFERENCE_SHARE) ** (-self.power)

    def sampling_only(self) -> ErrorModel:
        return replace(self, name="sampling", scale=0.0, power=0.0)

    def standard(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """`n` standard errors z: Student-t with ``dof`` degrees of freedom (a normal when infinite), clipped
        to +-``TAIL_LIMIT``."""
        z = rng.standard_normal(n) if np.isinf(self.dof) else rng.standard_t(self.dof, n)
        return np.clip(z, -TAIL_LIMIT, TAIL_LIMIT)

    def describe(self) -> str:
        """One sentence for a report's method notes."""
        if self.scale == 0:
            return ("sampling error of the pooled polls only (no election-day error: the error model "
                    "'sampling')")
        at = ", ".join(f"{float(p * self.sd([p])[0]):.1f} at {p:g}%" for p in (2.0, 5.0, 10.0, 25.0))
        tails = ("a normal" if np.isinf(self.dof) else
                 f"a Student-t with {self.dof:g} degrees of freedom (heavier tails than a normal: now and then "
                 f"polls miss a list by far more than usual), clipped at +-{TAIL_LIMIT:g}")
        fitted = f", fitted on the {', '.join(self.fitted_on)} elections," if self.fitted_on else ""
        return (f"an election-day error on a proportional scale{fitted} on top of the sampling error of the "
                f"pooled polls: a list's share is multiplied by exp(sd x t), t {tails}, sd = {self.scale:.3f} x "
                f"(share / 5%)^-{self.power:g}; its scale in points of share is about {at}")


def load(path: str | Path = FITTED_FILE) -> ErrorModel:
    """The fitted historical model in `path` (JSON written by ``ballotbook calibrate --write``)."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        return ErrorModel(name="historical", scale=float(doc["scale"]), power=float(doc["power"]),
                          others=float(doc["others"]), below_fraction=float(doc["below_fraction"]),
                          dof=float(doc.get("dof", "inf")), fitted_on=tuple(doc.get("fitted_on", ())), fit=doc)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} is not a fitted error model ({exc}); run `ballotbook calibrate --write`.") from None


#: The kit's default: the historical model as fitted on the shipped elections.
FITTED = load()


def model_for(name: str | ErrorModel) -> ErrorModel:
    """The error model called `name` ('historical' or 'sampling'), or `name` itself when it is a model."""
    if isinstance(name, ErrorModel):
        return name
    key = str(name).strip().casefold()
    if key == "historical":
        return FITTED
    if key == "sampling":
        return FITTED.sampling_only()
    raise DataError(f"error model '{name}' is not one of {', '.join(NAMES)}.")
