"""Tests of fastzip.law: fitting, form choice, the risk check, ingestion, plots.

Synthetic runs come from known laws plus Gaussian noise. The noise (sd 0.02
on losses spanning about 1 to 1.6 over R in [1.5, 5]) is small enough for the
forms to be told apart, and large enough that a wrong form, a biased fit or
intervals that are too narrow are caught: rates are asserted over fixed
seeds, not single lucky draws.
"""
from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

import fastzip.law as law
from fastzip.errors import InputError
from fastzip.law import Law, Run, check, fit

# true laws: form -> (function of R, true parameters)
TRUE_LAWS = {
    "linear": (lambda r: 2.6 - 0.25 * r, {"a": 2.6, "b": -0.25}),
    "loglinear": (lambda r: 2.6 - 0.8 * np.log(r), {"a": 2.6, "b": -0.8}),
    "power": (lambda r: 3.0 * r ** -0.6, {"a": 3.0, "b": -0.6}),
    "exp": (lambda r: 4.0 * np.exp(-0.45 * r), {"a": 4.0, "b": -0.45}),
}
NOISE = 0.02
N_RUNS = 20
SEEDS = range(20)


def synthetic_runs(form: str, seed: int, n: int = N_RUNS, noise: float = NOISE) -> list[dict]:
    f, _ = TRUE_LAWS[form]
    rng = np.random.default_rng(seed)
    r = np.sort(rng.uniform(1.5, 5.0, n))
    loss = f(r) + rng.normal(0.0, noise, n)
    return [{"name": f"v{i}", "ratio": float(a), "loss": float(b)} for i, (a, b) in enumerate(zip(r, loss))]


def performance_runs(seed: int, n: int = 24, quality: bool = False) -> tuple[list[dict], dict]:
    """Z = 0.9 - 0.12 ln R - 0.25 L (+ 0.05 Q) + noise; L varies beyond what R explains."""
    rng = np.random.default_rng(seed)
    r = rng.uniform(1.5, 5.0, n)
    loss = 2.6 - 0.8 * np.log(r) + rng.normal(0.0, 0.15, n)
    q = rng.uniform(2.0, 5.0, n)
    true = {"a": 0.9, "b": -0.12, "c": -0.25}
    z = true["a"] + true["b"] * np.log(r) + true["c"] * loss + rng.normal(0.0, 0.005, n)
    if quality:
        true["d"] = 0.05
        z = z + true["d"] * q
    runs = [{"name": f"v{i}", "ratio": r[i], "loss": loss[i], "performance": z[i]} for i in range(n)]
    if quality:
        for run, qi in zip(runs, q):
            run["quality"] = qi
    return runs, true


# --------------------------------------------------------------- recovery
@pytest.mark.parametrize("form", sorted(TRUE_LAWS))
def test_each_form_recovers_its_parameters_within_the_reported_intervals(form):
    _, true = TRUE_LAWS[form]
    covered = total = 0
    rel_widths = []
    for seed in SEEDS:
        fitted = fit(synthetic_runs(form, seed), target="loss", form=form, n_boot=200, seed=seed)
        assert fitted.form == form and fitted.n_runs == N_RUNS
        for name, value in true.items():
            lo, hi = fitted.ci[name]
            assert lo <= fitted.params[name] <= hi
            covered += lo <= value <= hi
            total += 1
            rel_widths.append((hi - lo) / abs(value))
        assert fitted.r2 > 0.95
        assert 0.5 * NOISE < fitted.residual_std < 2.0 * NOISE
    # nominal 95 %: 40 intervals, fewer than 32 covered happens with p < 0.001
    assert covered / total >= 0.8, f"only {covered}/{total} intervals hold the true value"
    # and the intervals are informative, not trivially wide
    assert np.median(rel_widths) < 0.25


@pytest.mark.parametrize("with_quality", [False, True])
def test_performance_law_recovers_its_parameters(with_quality):
    covered = total = 0
    for seed in range(10):
        runs, true = performance_runs(seed, quality=with_quality)
        fitted = fit(runs, target="performance", form="loglinear", n_boot=200, seed=seed)
        expected_predictors = ("ratio", "loss", "quality") if with_quality else ("ratio", "loss")
        assert fitted.predictors == expected_predictors
        assert set(fitted.params) == set(true)
        for name, value in true.items():
            lo, hi = fitted.ci[name]
            covered += lo <= value <= hi
            total += 1
    assert covered / total >= 0.8


def test_performance_law_can_ignore_quality():
    runs, _ = performance_runs(0, quality=True)
    fitted = fit(runs, target="performance", form="linear", n_boot=0, use_quality=False)
    assert fitted.predictors == ("ratio", "loss")
    assert fitted.formula == "performance = a + b*ratio + c*loss"


@pytest.mark.parametrize("form", sorted(TRUE_LAWS))
def test_auto_picks_the_true_form_in_most_seeds(form):
    picks = [fit(synthetic_runs(form, seed), form="auto", n_boot=0).form for seed in SEEDS]
    rate = picks.count(form) / len(picks)
    assert rate >= 0.8, f"auto picked {form} in {rate:.0%} of seeds: {picks}"


def test_auto_records_why():
    fitted = fit(synthetic_runs("power", 3), n_boot=0)
    assert set(fitted.cv_rmse) == set(law.FORMS)
    assert fitted.cv_rmse[fitted.form] == min(fitted.cv_rmse.values())
    assert fitted.reason.startswith(f"auto: lowest leave-one-out RMSE ({fitted.form} ")


def test_auto_works_for_the_performance_law():
    runs, _ = performance_runs(1)
    fitted = fit(runs, target="performance", n_boot=50)
    assert fitted.form in law.FORMS and fitted.r2 > 0.9


def test_fit_is_deterministic_for_a_seed():
    runs = synthetic_runs("exp", 5)
    a, b = fit(runs, n_boot=100, seed=7), fit(runs, n_boot=100, seed=7)
    assert a.params == b.params and a.ci == b.ci
    assert fit(runs, n_boot=100, seed=8).ci != a.ci


def test_fit_accepts_columns_and_run_objects():
    runs = synthetic_runs("linear", 2)
    columns = {"ratio": [r["ratio"] for r in runs], "loss": [r["loss"] for r in runs]}
    objects = [Run(**r) for r in runs]
    a = fit(runs, form="linear", n_boot=0)
    assert fit(columns, form="linear", n_boot=0).params == a.params
    assert fit(objects, form="linear", n_boot=0).params == a.params
    assert fit(columns, form="linear", n_boot=0).runs[0].name == "run0"


def test_predict_and_band():
    fitted = fit(synthetic_runs("loglinear", 1), form="loglinear", n_boot=200)
    a, b = fitted.params["a"], fitted.params["b"]
    assert fitted.predict(3.0) == pytest.approx(a + b * math.log(3.0))
    grid = np.array([2.0, 3.0, 4.0])
    assert np.allclose(fitted.predict(grid), a + b * np.log(grid))
    band = fitted.band(3.0, z=2.0)
    assert band.low < band.center < band.high
    assert band.sd >= fitted.residual_std
    assert band.high - band.low == pytest.approx(4.0 * band.sd)
    # extrapolating far out widens the band
    assert fitted.band(20.0).sd > band.sd
    with pytest.raises(ValueError, match="does not use loss"):
        fitted.predict(3.0, loss=2.0)
    with pytest.raises(ValueError, match="ratio > 0"):
        fitted.predict(-1.0)


def test_to_dict_is_plain_json():
    fitted = fit(synthetic_runs("power", 4), n_boot=50)
    d = json.loads(json.dumps(fitted.to_dict(), allow_nan=False))
    assert d["form"] == fitted.form and d["n_runs"] == N_RUNS
    assert d["params"] == fitted.params
    assert len(d["runs"]) == N_RUNS and "runs" not in fitted.to_dict(include_runs=False)
    assert fitted.summary().splitlines()[0].startswith("loss law, form")


# ------------------------------------------------------------------ check
def test_check_passes_in_band_points_and_flags_planted_outliers():
    f, _ = TRUE_LAWS["loglinear"]
    fitted = fit(synthetic_runs("loglinear", 11), form="loglinear", n_boot=300)
    rng = np.random.default_rng(99)
    fresh_r = rng.uniform(1.6, 4.9, 60)
    fresh_l = f(fresh_r) + rng.normal(0.0, NOISE, 60)
    verdicts = [check(fitted, r, loss).verdict for r, loss in zip(fresh_r, fresh_l)]
    # a ±2 sd band holds about 95 % of new runs
    assert verdicts.count("ok") / len(verdicts) >= 0.85

    high = check(fitted, 3.0, f(3.0) + 8 * NOISE)
    assert high.verdict == "risk" and high.is_risk
    assert "above" in high.reason and "\n" not in high.reason
    assert high.standardized_residual > 2.0
    assert high.observed == pytest.approx(f(3.0) + 8 * NOISE)
    assert high.expected == pytest.approx(fitted.predict(3.0))
    assert high.band[0] < high.expected < high.band[1] < high.observed

    low = check(fitted, 3.0, f(3.0) - 8 * NOISE)
    assert low.verdict == "risk" and "below" in low.reason and low.standardized_residual < -2.0

    ok = check(fitted, 3.0, f(3.0))
    assert ok.verdict == "ok" and "within" in ok.reason and abs(ok.standardized_residual) < 2.0
    # a wider band lets the high point through
    assert check(fitted, 3.0, f(3.0) + 8 * NOISE, z=20.0).verdict == "ok"


def test_check_notes_extrapolation():
    fitted = fit(synthetic_runs("linear", 0), form="linear", n_boot=50)
    report = check(fitted, 9.0, TRUE_LAWS["linear"][0](9.0))
    assert any("outside" in n for n in report.notes)


def test_check_with_a_performance_floor():
    runs, true = performance_runs(3)
    loss_law = fit(runs, target="loss", form="loglinear", n_boot=100)
    perf_law = fit(runs, target="performance", form="loglinear", n_boot=100)
    r, loss = 3.0, 2.6 - 0.8 * math.log(3.0)
    predicted = perf_law.predict(r, loss)
    assert predicted == pytest.approx(true["a"] + true["b"] * math.log(r) + true["c"] * loss, abs=0.02)

    ok = check((perf_law, loss_law), r, loss, performance_floor=predicted - 0.1)
    assert ok.verdict == "ok"
    assert [i.target for i in ok.items] == ["loss", "performance"]
    assert ok.expected == ok.item("loss").expected  # the headline is the loss law's

    risk = check({"loss": loss_law, "performance": perf_law}, r, loss, performance_floor=predicted + 0.1)
    assert risk.verdict == "risk"
    assert "below the floor" in risk.reason and "\n" not in risk.reason
    assert risk.item("loss").verdict == "ok" and risk.item("performance").verdict == "risk"

    only_perf = check(perf_law, r, loss)
    assert only_perf.verdict == "ok" and only_perf.observed is None and "no floor" in only_perf.reason
    json.dumps(risk.to_dict(), allow_nan=False)
    assert risk.summary().startswith("RISK: ")


def test_check_rejects_bad_arguments():
    runs, _ = performance_runs(4, quality=True)
    loss_law = fit(runs, target="loss", form="linear", n_boot=0)
    perf_law = fit(runs, target="performance", form="linear", n_boot=0)
    with pytest.raises(ValueError, match="needs a performance law"):
        check(loss_law, 3.0, 1.8, performance_floor=0.5)
    with pytest.raises(ValueError, match="two loss laws"):
        check((loss_law, loss_law), 3.0, 1.8)
    with pytest.raises(ValueError, match="quality"):
        check(perf_law, 3.0, 1.8)
    assert check(perf_law, 3.0, 1.8, quality=3.0).verdict == "ok"
    with pytest.raises(ValueError, match="finite"):
        check(loss_law, float("nan"), 1.8)
    with pytest.raises(ValueError, match="z must be > 0"):
        check(loss_law, 3.0, 1.8, z=0)


# ------------------------------------------------------- degenerate input
def _runs(ratios, losses):
    return [{"name": f"v{i}", "ratio": r, "loss": loss} for i, (r, loss) in enumerate(zip(ratios, losses))]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_values_are_refused(bad):
    runs = _runs([1.5, 2.0, 2.5, 3.0, 3.5], [2.0, 1.9, bad, 1.7, 1.6])
    with pytest.raises(InputError, match=r"run 'v2' has loss = .*finite"):
        fit(runs, form="linear")


def test_constant_ratio_is_refused():
    with pytest.raises(InputError, match="same ratio"):
        fit(_runs([2.0] * 6, [1.5, 1.6, 1.7, 1.8, 1.9, 2.0]), form="linear")


def test_constant_target_is_refused():
    with pytest.raises(InputError, match="same loss"):
        fit(_runs([1, 2, 3, 4, 5], [1.5] * 5), form="linear")


def test_duplicate_runs_are_refused():
    runs = _runs([1.5, 2.0, 2.5, 3.0, 3.5], [2.0, 1.9, 1.8, 1.7, 1.6])
    with pytest.raises(InputError, match="duplicate run name 'v1'"):
        fit(runs + [dict(runs[1], ratio=9.0)], form="linear")
    with pytest.raises(InputError, match="'v1' and 'copy' are identical"):
        fit(runs + [dict(runs[1], name="copy")], form="linear")
    # the same ratio with a different loss (a repeated training run) is fine
    fit(runs + [dict(runs[1], name="rerun", loss=1.95)], form="linear", n_boot=0)


def test_too_few_runs_are_refused():
    with pytest.raises(InputError, match=r"needs at least 4 runs \(parameters \+ 2\); got 3"):
        fit(_runs([1.5, 2.0, 2.5], [2.0, 1.9, 1.8]), form="linear")
    runs, _ = performance_runs(0)
    with pytest.raises(InputError, match="3-parameter performance law needs at least 5 runs"):
        fit(runs[:4], target="performance", form="linear")
    fit(_runs([1.5, 2.0, 2.5, 3.0], [2.0, 1.9, 1.8, 1.75]), form="linear", n_boot=0)


@pytest.mark.parametrize("form", ["loglinear", "power"])
def test_log_forms_refuse_non_positive_ratios(form):
    runs = _runs([-1.0, 0.5, 1.0, 1.5, 2.0, 2.5], [2.2, 2.1, 2.0, 1.9, 1.8, 1.7])
    with pytest.raises(InputError, match=f"form '{form}' needs ratio > 0, but run 'v0' has ratio -1"):
        fit(runs, form=form)


def test_auto_skips_log_forms_on_non_positive_ratios_and_says_so():
    runs = _runs([-1.0, 0.5, 1.0, 1.5, 2.0, 2.5], [2.2, 2.1, 2.0, 1.9, 1.8, 1.7])
    fitted = fit(runs, n_boot=0)
    assert fitted.form in ("linear", "exp")
    assert fitted.cv_rmse["loglinear"] is None and fitted.cv_rmse["power"] is None
    assert any(n.startswith("loglinear skipped") for n in fitted.notes)


def test_missing_target_column_is_refused():
    runs = _runs([1.5, 2.0, 2.5, 3.0, 3.5, 4.0], [2.0, 1.9, 1.8, 1.7, 1.6, 1.5])
    with pytest.raises(InputError, match="run 'v0' has no 'performance'"):
        fit(runs, target="performance")
    with pytest.raises(InputError, match="no 'quality'"):
        fit([dict(r, performance=0.5 + i / 10) for i, r in enumerate(runs)], target="performance",
            use_quality=True)


def test_bad_options_are_refused():
    runs = synthetic_runs("linear", 0)
    with pytest.raises(ValueError, match="target"):
        fit(runs, target="accuracy")
    with pytest.raises(ValueError, match="form"):
        fit(runs, form="cubic")
    with pytest.raises(ValueError, match="n_boot"):
        fit(runs, n_boot=-1)
    with pytest.raises(ValueError, match="ci"):
        fit(runs, ci=1.5)
    with pytest.raises(InputError, match="no runs"):
        fit([])


# -------------------------------------------------------------- ingestion
def trainer_state(first_epoch: list[float], second_epoch: list[float], steps_per_epoch: int = 100) -> dict:
    """A trainer_state.json in the structure transformers' Trainer writes."""
    log = []
    every = steps_per_epoch // len(first_epoch)
    for epoch_index, losses in enumerate((first_epoch, second_epoch)):
        for k, loss in enumerate(losses, start=1):
            step = epoch_index * steps_per_epoch + k * every
            log.append({"epoch": round(step / steps_per_epoch, 4), "grad_norm": 1.0 + 0.1 * k,
                        "learning_rate": 5e-05 * (1 - step / (2 * steps_per_epoch)), "loss": loss, "step": step})
        step = (epoch_index + 1) * steps_per_epoch
        log.append({"epoch": float(epoch_index + 1), "eval_loss": 9.99, "eval_runtime": 1.83,
                    "eval_samples_per_second": 54.6, "eval_steps_per_second": 6.8, "step": step})
    log.append({"epoch": 2.0, "step": 2 * steps_per_epoch, "total_flos": 1.2e15, "train_loss": 7.77,
                "train_runtime": 95.1, "train_samples_per_second": 16.8, "train_steps_per_second": 2.1})
    return {
        "best_metric": None,
        "best_model_checkpoint": None,
        "epoch": 2.0,
        "eval_steps": steps_per_epoch,
        "global_step": 2 * steps_per_epoch,
        "is_hyper_param_search": False,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "log_history": log,
        "logging_steps": every,
        "max_steps": 2 * steps_per_epoch,
        "num_input_tokens_seen": 0,
        "num_train_epochs": 2,
        "save_steps": 500,
        "stateful_callbacks": {"TrainerControl": {
            "args": {"should_epoch_stop": False, "should_evaluate": False, "should_log": False,
                     "should_save": True, "should_training_stop": True},
            "attributes": {}}},
        "total_flos": 1.2e15,
        "train_batch_size": 8,
        "trial_name": None,
        "trial_params": None,
    }


def test_first_epoch_loss_from_trainer_state(tmp_path):
    rng = np.random.default_rng(0)
    first = list(np.round(2.5 - 0.05 * np.arange(10) + rng.normal(0, 0.02, 10), 4))
    second = list(np.round(1.2 + rng.normal(0, 0.02, 10), 4))
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps(trainer_state(first, second), indent=2))
    assert law.loss_from_trainer_state(path) == pytest.approx(np.mean(first))
    assert law.first_epoch_loss(path) == pytest.approx(np.mean(first))
    assert law.first_epoch_loss(tmp_path) == pytest.approx(np.mean(first))  # a checkpoint folder
    assert law.loss_from_trainer_state(path, max_epoch=2.0) == pytest.approx(np.mean(first + second))


def test_trainer_state_faults(tmp_path):
    path = tmp_path / "trainer_state.json"
    state = trainer_state([2.0, 1.9], [1.5, 1.4])
    state["log_history"] = [e for e in state["log_history"] if e.get("epoch", 0) > 1 or "loss" not in e]
    path.write_text(json.dumps(state))
    with pytest.raises(InputError, match="no training loss logged at epoch <= 1"):
        law.loss_from_trainer_state(path)
    state = trainer_state([2.0, float("nan")], [1.5, 1.4])
    path.write_text(json.dumps(state))  # json writes NaN, as the Trainer does
    with pytest.raises(InputError, match="record 1: loss is nan"):
        law.loss_from_trainer_state(path)
    path.write_text(json.dumps({"global_step": 3}))
    with pytest.raises(InputError, match="log_history"):
        law.loss_from_trainer_state(path)
    path.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        law.loss_from_trainer_state(path)
    with pytest.raises(InputError, match="no such file"):
        law.loss_from_trainer_state(tmp_path / "missing.json")


def test_first_epoch_loss_from_csv(tmp_path):
    rows = [(10, 2.4, 0.25), (20, 2.2, 0.5), (30, 2.1, 0.75), (40, 2.0, 1.0), (50, 1.5, 1.25), (60, 1.4, 1.5)]
    first = [loss for _, loss, e in rows if e <= 1]
    with_epoch = tmp_path / "loss.csv"
    with_epoch.write_text("step,loss,epoch\n" + "".join(f"{s},{loss},{e}\n" for s, loss, e in rows))
    assert law.loss_from_csv(with_epoch) == pytest.approx(np.mean(first))
    assert law.first_epoch_loss(with_epoch) == pytest.approx(np.mean(first))

    reordered = tmp_path / "reordered.csv"
    reordered.write_text("epoch,step,loss\n" + "".join(f"{e},{s},{loss}\n" for s, loss, e in rows))
    assert law.loss_from_csv(reordered) == pytest.approx(np.mean(first))

    no_header = tmp_path / "no_header.csv"
    no_header.write_text("".join(f"{s},{loss},{e}\n" for s, loss, e in rows))
    assert law.loss_from_csv(no_header) == pytest.approx(np.mean(first))

    no_epoch = tmp_path / "no_epoch.csv"  # every row counts as first epoch
    no_epoch.write_text("step,loss\n" + "".join(f"{s},{loss}\n" for s, loss, _ in rows))
    assert law.loss_from_csv(no_epoch) == pytest.approx(np.mean([loss for _, loss, _ in rows]))

    bad = tmp_path / "bad.csv"
    bad.write_text("step,loss\n10,2.0\n20,oops\n")
    with pytest.raises(InputError, match="record 1: loss is 'oops'"):
        law.loss_from_csv(bad)
    assert law.first_epoch_loss(1.75) == 1.75
    with pytest.raises(InputError):
        law.first_epoch_loss(float("nan"))


def test_read_runs_csv_and_json(tmp_path):
    runs = synthetic_runs("linear", 0, n=6)
    csv_path = tmp_path / "runs.csv"
    csv_path.write_text("Name,ratio,loss,notes\n" + "".join(
        f"{r['name']},{r['ratio']!r},{r['loss']!r},free text\n" for r in runs))
    from_csv = law.read_runs(csv_path)
    assert [r.name for r in from_csv] == [r["name"] for r in runs]
    assert [r.ratio for r in from_csv] == [r["ratio"] for r in runs]
    assert all(r.performance is None for r in from_csv)

    json_path = tmp_path / "runs.json"
    json_path.write_text(json.dumps(runs))
    assert law.read_runs(json_path) == from_csv
    json_path.write_text(json.dumps({"runs": runs}))
    assert law.read_runs(json_path) == from_csv
    assert fit(csv_path, form="linear", n_boot=0).params == fit(runs, form="linear", n_boot=0).params


def test_read_runs_faults(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text("name,ratio\nv0,2.0\n")
    with pytest.raises(InputError, match="lacks column.*loss"):
        law.read_runs(path)
    path.write_text("name,ratio,loss\nv0,2.0,1.5\nv1,abc,1.4\n")
    with pytest.raises(InputError, match=r"runs.csv: record 1: 'ratio' is 'abc'"):
        law.read_runs(path)
    path.write_text("name,ratio,loss\nv0,2.0,1.5\n,2.5,1.4\n")
    with pytest.raises(InputError, match="record 1: missing value in column 'name'"):
        law.read_runs(path)
    json_path = tmp_path / "runs.json"
    json_path.write_text(json.dumps({"name": "v0"}))
    with pytest.raises(InputError, match="expected a JSON list"):
        law.read_runs(json_path)


# ------------------------------------------------------------------- plot
def test_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image

    runs, _ = performance_runs(2)
    loss_law = fit(runs, target="loss", n_boot=100)
    perf_law = fit(runs, target="performance", form="linear", n_boot=100)
    report = check((loss_law, perf_law), 3.0, 2.4, performance_floor=0.3)
    out = law.plot((loss_law, perf_law), tmp_path / "law.png", report)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(out)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 2 * image.shape[0]
    assert [p.name for p in tmp_path.iterdir()] == ["law.png"]  # no temporary file left

    single = law.plot(loss_law, tmp_path / "loss.png")
    assert matplotlib.image.imread(single).shape[1] < image.shape[1]


def test_plot_without_matplotlib_says_how_to_get_it(monkeypatch, tmp_path):
    from fastzip.errors import MissingDependencyError

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    fitted = fit(synthetic_runs("linear", 0), form="linear", n_boot=0)
    with pytest.raises(MissingDependencyError, match=r"pip install 'fastzip-select\[plot\]'"):
        law.plot(fitted, tmp_path / "x.png")
    assert isinstance(MissingDependencyError("x"), ImportError)


def test_law_is_a_lazy_attribute_of_fastzip():
    import fastzip

    assert fastzip.law is law
    assert isinstance(fit(synthetic_runs("exp", 0), n_boot=0), Law)
