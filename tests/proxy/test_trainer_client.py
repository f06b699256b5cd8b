"""A real client: transformers.Trainer trains a tiny random GPT-2 on CPU; the law commands read its output.

Nothing is downloaded: the model is a randomly initialised GPT2Config, the
tokens are the bytes of real records (tests/data), the Trainer reports to
nobody.
"""
from __future__ import annotations

import json
import os

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("accelerate")          # the Trainer needs it (transformers[torch] brings it)

from fastzip.cli import main  # noqa: E402
from fastzip.law.ingest import loss_from_trainer_state  # noqa: E402
from fastzip.proxy.text import joined_text, record_texts  # noqa: E402


class _Blocks(torch.utils.data.Dataset):  # type: ignore[misc]
    def __init__(self, data: bytes, context: int):
        ids = torch.tensor(list(data), dtype=torch.long)
        n = (len(ids) // context) * context
        self.blocks = ids[:n].view(-1, context)

    def __len__(self) -> int:
        return len(self.blocks)

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.blocks[i], "labels": self.blocks[i]}


@pytest.fixture(scope="module")
def trainer_output(faq_rows, tmp_path_factory):
    """Two epochs of 6 steps each, logged every 2 steps, checkpoints at steps 4, 8 and 12 (kept: the last 2)."""
    out = tmp_path_factory.mktemp("trainer")
    cfg = transformers.GPT2Config(vocab_size=256, n_positions=64, n_embd=32, n_layer=1, n_head=2,
                                  bos_token_id=0, eos_token_id=0)
    torch.manual_seed(0)
    model = transformers.GPT2LMHeadModel(cfg)
    data = _Blocks(joined_text(record_texts(faq_rows[:40])), 64)
    args = transformers.TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=len(data) // 6 + (len(data) % 6 > 0),
        num_train_epochs=2, logging_steps=2, save_steps=4, save_total_limit=2, report_to=[], use_cpu=True,
        seed=0, disable_tqdm=True, dataloader_num_workers=0)
    transformers.Trainer(model=model, args=args, train_dataset=data).train()
    return out


def _latest_checkpoint(folder):
    ckpts = [d for d in os.listdir(folder) if d.startswith("checkpoint-")]
    return os.path.join(folder, max(ckpts, key=lambda d: int(d.split("-")[1])))


def _first_epoch_mean(state_file):
    with open(state_file) as f:
        log = json.load(f)["log_history"]
    losses = [e["loss"] for e in log if "loss" in e and e["epoch"] <= 1 + 1e-6]
    return sum(losses) / len(losses), len(losses)


def _runs_table(tmp_path):
    runs = tmp_path / "runs.csv"
    runs.write_text("name,ratio,loss\na,2.1,5.31\nb,2.4,5.22\nc,2.8,5.05\nd,3.1,4.96\ne,3.5,4.80\n")
    return runs


def test_law_check_reads_a_real_checkpoint(trainer_output, tmp_path, capsys):
    latest = _latest_checkpoint(trainer_output)
    assert latest.endswith("checkpoint-12")
    expected, n = _first_epoch_mean(os.path.join(latest, "trainer_state.json"))
    assert n == 3                                    # steps 2, 4 and 6 of a 6-step epoch
    assert loss_from_trainer_state(latest) == pytest.approx(expected, abs=0)
    status = main(["law", "check", str(_runs_table(tmp_path)), "--ratio", "2.9", "--trainer-state", latest,
                   "--bootstrap", "0", "--json"])
    assert status in (0, 1)
    assert json.loads(capsys.readouterr().out)["loss"] == pytest.approx(expected, abs=0)


def test_law_check_picks_the_latest_checkpoint_of_an_output_dir(trainer_output, tmp_path, capsys):
    expected, _ = _first_epoch_mean(os.path.join(_latest_checkpoint(trainer_output), "trainer_state.json"))
    assert not os.path.exists(os.path.join(trainer_output, "trainer_state.json"))
    status = main(["law", "check", str(_runs_table(tmp_path)), "--ratio", "2.9",
                   "--trainer-state", str(trainer_output), "--bootstrap", "0", "--json"])
    assert status in (0, 1)
    assert json.loads(capsys.readouterr().out)["loss"] == pytest.approx(expected, abs=0)
