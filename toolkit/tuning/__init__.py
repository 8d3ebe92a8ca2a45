"""Hyperparameter search on Optuna: `toolkit tune PIPELINE --config search.yaml` and `toolkit.tune(...)`.

A search config is a pipeline config plus a `search:` section (`search_config`);
its space becomes Optuna suggestions (`space`); each trial is an ordinary run
of `toolkit.run`, judged on the validation split only (`metrics`, `objective`),
pruned epoch by epoch (`pruning`) and watched by a heartbeat (`heartbeat`). The
study lives in a journal file or a database (`storage`), in a study folder of
its own (`study_folder`), which ends with `study.json`, `best.yaml`, plots
(`plots`) and the best trial's test metric beside the default config's
(`comparison`, `report`). `search.tune` puts it together.
"""
