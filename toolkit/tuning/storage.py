"""Where a study lives: an Optuna journal file in its study folder, or a database (`--storage URL`) hosts share.

A study records what it searches (`Search.identity`) when it is created; a
`toolkit tune` that names it again with another space, metric or starting
config is refused, naming the keys that differ, since its trials would not
compare with the earlier ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import optuna
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.engine import make_url

from toolkit.errors import InputError
from toolkit.tuning.search_config import Search
from toolkit.tuning.study_folder import JOURNAL

# The study attribute that records what a study searches.
SEARCH_ATTRIBUTE = "toolkit_search"


class StudyMismatchError(InputError):
    """A study of that name exists, started with another search; the message names what differs."""


def open_storage(folder: Path, url: str | None) -> tuple[optuna.storages.BaseStorage, str]:
    """Opens the study's storage: the journal file in `folder`, or the database at `url`.

    Returns:
        The storage, and where it is, for messages (a database URL without its password).

    Raises:
        InputError: For a URL that cannot be opened, or a journal that cannot be read, saying why.
    """
    if url is None:
        path = folder / JOURNAL
        try:
            storage = JournalStorage(JournalFileBackend(str(path)))
            storage.get_all_studies()  # reads the journal through, so that a damaged one is reported here
        except (ValueError, KeyError) as error:
            raise InputError(f"{path}: cannot be read as an Optuna journal ({type(error).__name__}: {error}).") from None
        return storage, str(path)
    shown = _without_password(url)
    try:
        return RDBStorage(url), shown
    except Exception as error:  # SQLAlchemy and the database drivers raise many kinds; each means the same here
        raise InputError(
            f"--storage {shown!r}: cannot be opened ({type(error).__name__}: {str(error).splitlines()[0]}). Give a "
            "database URL that SQLAlchemy can open, such as postgresql://user:password@host/db or sqlite:///path.db."
        ) from None


def open_study(
    storage: optuna.storages.BaseStorage,
    where: str,
    name: str,
    search: Search,
    sampler: optuna.samplers.BaseSampler,
    pruner: optuna.pruners.BasePruner,
) -> optuna.Study:
    """Creates the study `name`, or loads it after checking that it searches what `search` does.

    Raises:
        StudyMismatchError: If it exists with another pipeline, metric,
            direction, space or starting config (naming the keys), or was
            not made by toolkit.
    """
    identity = search.identity()
    try:
        existing = storage.get_study_id_from_name(name)
    except KeyError:
        existing = None
    if existing is not None:
        _check_same(storage.get_study_user_attrs(existing).get(SEARCH_ATTRIBUTE), identity, name, where)
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
    study = optuna.create_study(
        study_name=name, storage=storage, sampler=sampler, pruner=pruner, direction=search.direction, load_if_exists=True
    )
    recorded = study.user_attrs.get(SEARCH_ATTRIBUTE)
    if recorded is None:
        study.set_user_attr(SEARCH_ATTRIBUTE, identity)
    else:  # another process created it a moment ago
        _check_same(recorded, identity, name, where)
    return study


def _check_same(recorded: dict | None, identity: dict, name: str, where: str) -> None:
    if recorded is None:
        raise StudyMismatchError(
            f"study {name!r} in {where} was not started by `toolkit tune` (it records no search); it is left as it "
            "is. Give another study name (--study)."
        )
    recorded = json.loads(json.dumps(recorded))  # as stored: tuples become lists, as in the record
    identity = json.loads(json.dumps(identity))
    differences = []
    for part in ("pipeline", "metric", "direction"):
        if recorded.get(part) != identity[part]:
            differences.append(f"{part}: {recorded.get(part)!r} then, {identity[part]!r} now")
    for part, absent in (("space", "not searched"), ("config", "not set")):
        then, now = recorded.get(part) or {}, identity[part]
        changed = [key for key in dict.fromkeys([*then, *now]) if then.get(key) != now.get(key)]
        differences += [
            f"{part} key {key}: {_shown(then, key, absent)} then, {_shown(now, key, absent)} now" for key in changed
        ]
    if differences:
        shown = "; ".join(differences[:6]) + (f"; and {len(differences) - 6} more" if len(differences) > 6 else "")
        raise StudyMismatchError(
            f"study {name!r} in {where} was started with another search, so its trials would not compare with new "
            f"ones: {shown}. Resume it with the search it was started with, or give another study name (--study)."
        )


def _shown(values: dict, key: str, absent: str) -> str:
    return json.dumps(values[key]) if key in values else absent


def _without_password(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: nothing to hide in it, and opening it says why
        return url
