"""Where a study lives: the journal file, a database URL, and a study resumed only with the search it was started with."""

from __future__ import annotations

import optuna
import pytest

from tests.tuning.conftest import TINY_STOCK, search_config
from toolkit.errors import InputError
from toolkit.tuning.search_config import load_search
from toolkit.tuning.storage import SEARCH_ATTRIBUTE, StudyMismatchError, open_storage, open_study

SPACE = {"model.dropout": {"float": [0.0, 0.3]}, "trainer.learning_rate": {"choice": [0.01, 0.001]}}


def search(space=SPACE, base=TINY_STOCK, **settings):
    return load_search("stock", search_config(base, space, **settings))


def opened(storage, where, name="study", searched=None):
    sampler, pruner = optuna.samplers.RandomSampler(), optuna.pruners.NopPruner()
    return open_study(storage, where, name, searched or search(), sampler, pruner)


def test_the_journal_lives_in_the_study_folder_and_reopens_the_same_study(tmp_path):
    storage, where = open_storage(tmp_path, None)
    assert where == str(tmp_path / "journal.log")
    study = opened(storage, where)
    study.tell(study.ask(), 0.5)
    again, _ = open_storage(tmp_path, None)
    resumed = opened(again, where)
    assert [trial.value for trial in resumed.get_trials()] == [0.5]
    assert resumed.user_attrs[SEARCH_ATTRIBUTE]["space"]["model.dropout"] == {"float": [0.0, 0.3], "log": False}
    assert resumed.direction == optuna.study.StudyDirection.MINIMIZE


def test_a_database_url_opens_as_optuna_storage(tmp_path):
    storage, where = open_storage(tmp_path, f"sqlite:///{tmp_path / 'studies.db'}")
    assert where == f"sqlite:///{tmp_path / 'studies.db'}"
    opened(storage, where).tell(opened(storage, where).ask(), 0.25)
    assert [trial.value for trial in opened(storage, where).get_trials()] == [0.25]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nosuchdatabase://host/db", "--storage 'nosuchdatabase://host/db': cannot be opened (NoSuchModuleError"),
        ("sqlite:////no/such/folder/studies.db", "--storage 'sqlite:////no/such/folder/studies.db': cannot be opened"),
        ("not a url", "--storage 'not a url': cannot be opened (ArgumentError"),
        ("postgresql://me:secret@127.0.0.1:1/db", "--storage 'postgresql://me:***@127.0.0.1:1/db': cannot be opened"),
    ],
)
def test_a_storage_url_that_cannot_be_opened_is_refused_saying_why(tmp_path, url, message):
    with pytest.raises(InputError) as refused:
        open_storage(tmp_path, url)
    assert message in str(refused.value)
    assert "secret" not in str(refused.value)


def test_a_damaged_journal_is_named(tmp_path):
    # Optuna reads a broken last line as a write in progress; a broken line with more after it is damage.
    (tmp_path / "journal.log").write_text("this is not an Optuna journal\nnor is this\n")
    with pytest.raises(InputError) as refused:
        open_storage(tmp_path, None)
    assert str(refused.value).startswith(f"{tmp_path / 'journal.log'}: cannot be read as an Optuna journal")


def test_a_study_resumed_with_another_space_is_refused_naming_the_keys(tmp_path):
    storage, where = open_storage(tmp_path, None)
    opened(storage, where)
    other = search({"model.dropout": {"float": [0.0, 0.5]}, "model.recurrent.units": {"int": [2, 8]}})
    with pytest.raises(StudyMismatchError) as refused:
        opened(storage, where, searched=other)
    message = str(refused.value)
    assert message.startswith(f"study 'study' in {where} was started with another search, so its trials would not compare")
    then, now = '{"float": [0.0, 0.3], "log": false}', '{"float": [0.0, 0.5], "log": false}'
    assert f"space key model.dropout: {then} then, {now} now" in message
    assert "space key trainer.learning_rate: " in message and "then, not searched now" in message
    assert "space key model.recurrent.units: not searched then, " in message
    assert message.endswith("Resume it with the search it was started with, or give another study name (--study).")


def test_a_study_resumed_from_another_config_or_metric_is_refused_naming_them(tmp_path):
    storage, where = open_storage(tmp_path, None)
    opened(storage, where)
    longer = {**TINY_STOCK, "trainer": {**TINY_STOCK["trainer"], "epochs": 5}}
    with pytest.raises(StudyMismatchError, match="config key trainer.epochs: 3 then, 5 now"):
        opened(storage, where, searched=search(base=longer))
    with pytest.raises(StudyMismatchError, match="metric: 'headline.skill_vs_persistence' then, 'overall.model.mae' now"):
        opened(storage, where, searched=search(metric="overall.model.mae"))


def test_a_study_not_started_by_toolkit_is_left_alone(tmp_path):
    storage, where = open_storage(tmp_path, None)
    optuna.create_study(study_name="theirs", storage=storage)
    with pytest.raises(StudyMismatchError, match="study 'theirs' in .* was not started by `toolkit tune`"):
        opened(storage, where, name="theirs")
