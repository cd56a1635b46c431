"""The ranking adapts to the model whose vectors it ranks in one place (`ranking.MODEL_TUNING`)."""

from __future__ import annotations

import json
from dataclasses import fields

from recruiter.matching.backends import FAST_KEY
from recruiter.matching.ranking import (
    MODEL_TUNING,
    FitCalibration,
    ModelTuning,
    RankOptions,
    fit_from_score,
    tuning_for,
)


def test_minilm_ranks_with_the_defaults_and_its_own_calibration() -> None:
    assert RankOptions.for_model("all-MiniLM-L6-v2") == RankOptions()
    assert tuning_for("all-MiniLM-L6-v2").calibration == FitCalibration()
    assert RankOptions.for_model("some-other-model", audience_weight=0.5) == RankOptions(audience_weight=0.5)
    for score in (-0.1, 0.3, 0.45, 0.7):  # the module's fit_from_score is MiniLM's curve
        assert fit_from_score(score, kind="podcast") == FitCalibration().fit(score, kind="podcast")


def test_the_fast_model_has_its_own_options_and_fit_curve() -> None:
    tuning = MODEL_TUNING[FAST_KEY]
    options = RankOptions.for_model(FAST_KEY)
    assert {f.name for f in fields(RankOptions)} >= set(tuning.options)  # no stale field names
    assert {k: getattr(options, k) for k in tuning.options} == tuning.options
    assert RankOptions.for_model(FAST_KEY, audience_weight=1.0).audience_weight == 1.0
    assert RankOptions.for_model(FAST_KEY, lexical_weight=0.0).lexical_weight == 0.0  # a caller's choice wins
    curve = [tuning.calibration.fit(s) for s in (0.0, 0.2, 0.4, 0.6, 0.8)]
    assert curve == sorted(curve) and curve[0] < 20 < 80 < curve[-1]
    assert tuning.calibration.fit(-10.0) == 0


def test_an_adapted_fast_index_ranks_with_the_adapted_curve(tmp_path) -> None:
    import numpy as np

    from recruiter.matching.adapter import Adapter
    from recruiter.matching.index import CommunityIndex

    tuning = MODEL_TUNING[FAST_KEY]
    plain = CommunityIndex(folder=tmp_path, model=FAST_KEY, dim=256)
    adapted = CommunityIndex(folder=tmp_path, model=FAST_KEY, dim=512,
                             adapter=Adapter(matrix=np.eye(256, dtype=np.float32), fitted_on=2000, sample=2000))
    assert tuning.calibration_for(plain) is tuning.calibration
    assert tuning.calibration_for(adapted) is tuning.adapted_calibration is not None
    curve = [tuning.adapted_calibration.fit(s, kind="podcast") for s in (0.0, 0.2, 0.4, 0.6, 0.8)]
    assert curve == sorted(curve) and curve[0] < 20 < 80 < curve[-1]
    assert ModelTuning().calibration_for(adapted) == FitCalibration()  # a model without its own: MiniLM's


def _fit_everywhere(cli, tmp_path) -> list[int]:
    rows = [{"url": f"https://www.reddit.com/r/bread{i}/", "name": f"r/bread{i}", "description": f"sourdough {i}"}
            for i in range(3)]
    data = tmp_path / "c.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    assert cli("import", data).exit_code == 0
    assert cli("profile", "add", "--name", "bread", "--description", "Sourdough bread baking kits").exit_code == 0
    return [row["fit"] for row in json.loads(cli("rank", "bread", "--format", "json").stdout)]


def test_rank_uses_the_tuning_of_the_model_it_ranks_with(cli, monkeypatch, tmp_path) -> None:
    """The CLI (which passes its own options) and the default path both take the model's calibration."""
    monkeypatch.setenv("RECRUITER_MODEL", "hashing")
    flat = FitCalibration(slope=0.0, offset=0.0, kind_offsets=(), guess_slope=0.0, guess_offset=0.0)
    monkeypatch.setitem(MODEL_TUNING, "hashing", ModelTuning(options={"smoothing": 0.0}, calibration=flat))
    assert _fit_everywhere(cli, tmp_path) == [50, 50, 50]

    from recruiter.core.db import open_session
    from recruiter.core.models import Profile
    from recruiter.matching.ranking import rank_communities

    with open_session() as session:
        ranked = rank_communities(Profile(name="p", description="sourdough bread"), session=session, store=False)
    assert [r.fit for r in ranked] == [50, 50, 50]
