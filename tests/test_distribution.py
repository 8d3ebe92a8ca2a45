"""tf.distribute: strategies by name, roles from TF_CONFIG, a two-worker cluster on loopback that trains, and resumes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import toolkit
import toolkit_cli
from toolkit import distribution, local_cluster, run_directory
from toolkit.distribution import WorkerRole, cluster_from_environment, distribution_strategy
from toolkit.errors import InputError
from toolkit.run_directory import TrainingFiles
from toolkit.training import TrainerConfig, compile_model, fit
from toolkit.training_backup import EpochBackup

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "configs" / "sentiment_smoke.yaml"


def test_unknown_strategy_and_missing_tf_config_are_explained(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(InputError, match="'multi_worker' needs the TF_CONFIG environment variable.*--local-workers"):
        distribution_strategy("multi_worker")
    with pytest.raises(InputError, match="unknown strategy 'tpu'; use none, mirrored, multi_worker"):
        distribution_strategy("tpu")


@pytest.mark.parametrize(
    "tf_config, role",
    [
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}, WorkerRole("worker", 0, 2, True)),
        ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}, WorkerRole("worker", 1, 2, False)),
        (
            {"cluster": {"chief": ["c:1"], "worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}},
            WorkerRole("worker", 0, 3, False),
        ),
        ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}, WorkerRole("chief", 0, 2, True)),
    ],
)
def test_tf_config_names_the_chief(monkeypatch, tf_config, role):
    monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    assert cluster_from_environment() == role


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "TF_CONFIG: expected JSON with a 'cluster'"),
        ('{"cluster": {"worker": ["a:1"]}}', "TF_CONFIG: expected JSON .*KeyError: 'task'"),
        ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}', "task worker 3 is not in the cluster"),
        ('{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}', "takes 'chief' and 'worker' tasks"),
    ],
)
def test_a_malformed_tf_config_is_named(monkeypatch, text, message):
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(InputError, match=message):
        cluster_from_environment()


def test_a_multi_worker_run_needs_a_run_name_before_any_strategy_is_made(monkeypatch, tmp_path):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(InputError, match="give a run name .*the same on every worker"):
        toolkit.run("sentiment", SMOKE, ["trainer.distribution=multi_worker"], output_dir=tmp_path)


def test_the_local_cluster_gives_each_worker_its_own_free_port():
    ports = local_cluster.free_ports(3)
    configs = [json.loads(text) for text in local_cluster.tf_configs(ports)]
    assert len(set(ports)) == 3
    assert [config["task"] for config in configs] == [{"type": "worker", "index": index} for index in range(3)]
    assert all(config["cluster"] == {"worker": [f"127.0.0.1:{port}" for port in ports]} for config in configs)


def test_datasets_are_sharded_by_element_unless_they_name_a_policy():
    data = tf.data.Dataset.range(4)
    assert distribution.sharded(data).options().experimental_distribute.auto_shard_policy == tf.data.experimental.AutoShardPolicy.DATA
    by_file = tf.data.Options()
    by_file.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.FILE
    kept = distribution.sharded(data.with_options(by_file)).options().experimental_distribute.auto_shard_policy
    assert kept == tf.data.experimental.AutoShardPolicy.FILE


def test_a_worker_resumes_from_the_chiefs_backup_and_writes_nothing_there(tmp_path, monkeypatch):
    config = TrainerConfig(epochs=4, verbose=0, early_stopping_patience=None)
    data = tf.data.Dataset.from_tensor_slices((np.ones((8, 2), "float32"), np.ones((8, 1), "float32"))).batch(4)

    def model():
        network = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        return compile_model(network, config, "mse", [])

    chief = tmp_path / "chief"
    # As if killed as its third epoch began: the backup of the second stays.
    monkeypatch.setattr(EpochBackup, "on_train_end", lambda self, logs=None: None)
    fit(model(), data, None, config, chief, epochs=2)
    monkeypatch.undo()
    before = {path: path.read_bytes() for path in chief.rglob("*") if path.is_file()}

    chief_history = json.loads((chief / "history.json").read_text())
    history = fit(model(), data, None, config, TrainingFiles(tmp_path / "worker", chief_root=chief))
    assert len(history["loss"]) == 4, "the chief's epochs 1 and 2, then the worker's 3 and 4, not 1 to 4 again"
    assert history["loss"][:2] == chief_history["loss"]
    assert {path: path.read_bytes() for path in chief.rglob("*") if path.is_file()} == before


# A cluster of two workers on 127.0.0.1, through the command line.

TINY = ["data.max_examples=1200", "trainer.verbose=2"]


def toolkit_command(*args: str, temporary: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(temporary)},
    )


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """A run by a cluster of two local workers: killed as its second epoch begins, then started again as it was.

    Between the two, the same run is started as two workers that write to different output folders,
    so that one finds the chief's backup and the other does not. One cluster's worth of training
    serves every test of a killed, a refused and a finished cluster.
    """
    root = tmp_path_factory.mktemp("cluster")
    training = ["run", "sentiment", "--config", str(SMOKE), "--set", *TINY]
    args = [*training, "--local-workers", "2", "--output-dir", str(root / "runs"), "--run-name", "pair"]
    folders = {name: root / name for name in ("killed_tmp", "mismatched_tmp", "tmp")}
    for folder in folders.values():
        folder.mkdir()

    killed = toolkit_command(*args, temporary=folders["killed_tmp"])
    pids, killed_output = {}, []
    for line in killed.stdout:
        killed_output.append(line)
        if started := re.match(r"toolkit: started worker (\d) of 2 \(pid (\d+)\)", line):
            pids[int(started[1])] = int(started[2])
        if line.startswith("[worker 0] Epoch 2/3"):  # the first epoch is backed up
            os.kill(pids[1], signal.SIGKILL)
    killed_status = killed.wait(timeout=300)

    # A worker that cannot read the chief's backup (another output folder, as on storage that is not shared).
    mismatched = workers_of_a_cluster(
        [
            [*training, "trainer.distribution=multi_worker", "--output-dir", str(root / folder), "--run-name", "pair"]
            for folder in ("runs", "elsewhere")
        ],
        folders["mismatched_tmp"],
    )

    process = toolkit_command(*args, temporary=folders["tmp"])
    output, _ = process.communicate(timeout=600)
    return {
        "killed_status": killed_status, "killed_output": "".join(killed_output), "mismatched": mismatched,
        "status": process.returncode, "output": output, "root": root, "temporary": folders["tmp"],
    }


def test_a_killed_worker_stops_the_cluster_and_a_restart_resumes(two_workers):
    killed = two_workers["killed_output"]
    assert two_workers["killed_status"] == 1, killed[-3000:]
    assert "toolkit run: error: worker 1 was killed by signal 9; the other workers were stopped" in killed
    assert "[worker 0] toolkit run: error: another worker of the cluster stopped" in killed
    assert "Traceback" not in killed

    for status, output in two_workers["mismatched"]:
        assert status == 2, output[-3000:]
        assert "the workers would resume from different epochs (1, 0, by worker)" in output
        assert "--output-dir must be storage every worker reads" in output

    resumed = two_workers["output"]
    assert two_workers["status"] == 0, resumed[-3000:]
    for index in (0, 1):
        first_epoch = re.findall(rf"^\[worker {index}\] Epoch \d/3", resumed, re.M)[0]
        assert first_epoch == f"[worker {index}] Epoch 2/3", "it did not start over"
    history = json.loads((two_workers["root"] / "runs" / "sentiment" / "pair" / "history.json").read_text())
    assert {name: len(values) for name, values in history.items()} == {name: 3 for name in history}


def test_two_local_workers_train_and_the_chief_writes_a_run_that_serves(two_workers, run_without_toolkit):
    assert two_workers["status"] == 0, two_workers["output"][-3000:]
    run_dir = two_workers["root"] / "runs" / "sentiment" / "pair"
    assert f"Run written to {run_dir} by a cluster of 2 local workers." in two_workers["output"]
    assert "/job:worker" not in two_workers["output"], "TensorFlow's own logging (a list of tasks) is hidden"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["distribution"]["strategy"] == "MultiWorkerMirroredStrategy"
    assert metrics["distribution"]["workers"] == metrics["distribution"]["replicas_in_sync"] == 2
    assert {"model.keras", "serving", "config.yaml", "metrics.json", "history.json", "run.json"} <= {
        path.name for path in run_dir.iterdir()
    }
    served = run_without_toolkit(
        f"""
        import json
        import tensorflow as tf
        serving = tf.saved_model.load({str(run_dir / "serving")!r}).signatures["serving_default"]
        outputs = serving(text=tf.constant(["A wonderful, moving film.", "Dull and far too long."]))
        print(json.dumps({{"labels": [label.decode() for label in outputs["label"].numpy()]}}))
        """
    )
    assert len(served["labels"]) == 2 and set(served["labels"]) <= {"negative", "positive"}


def test_both_workers_end_with_identical_weights_and_log_the_same_epochs(two_workers):
    output = two_workers["output"]
    checksum = json.loads((two_workers["root"] / "runs" / "sentiment" / "pair" / "metrics.json").read_text())
    assert f"(weights checksum {checksum['distribution']['weights_checksum']})" in output
    epochs = {index: re.findall(rf"^\[worker {index}\] \d+/\d+ - .*loss: ([\d.]+) - val_accuracy: ([\d.]+)", output, re.M) for index in (0, 1)}
    assert epochs[0] and epochs[0] == epochs[1]


def test_the_other_worker_leaves_no_files_behind(two_workers):
    assert [path.name for path in two_workers["temporary"].iterdir()] == []
    assert [path.name for path in (two_workers["root"] / "runs" / "sentiment").iterdir()] == ["pair"]


def test_two_workers_reach_a_one_worker_runs_accuracy(two_workers, tmp_path):
    single = toolkit.run("sentiment", SMOKE, TINY, run_name="single", output_dir=tmp_path)
    pair = json.loads((two_workers["root"] / "runs" / "sentiment" / "pair" / "metrics.json").read_text())
    # Same global batch and data; the workers' shards see the examples in another grouping, so not bit-identical.
    assert abs(pair["test"]["accuracy"] - single.metrics["test"]["accuracy"]) <= 0.06
    assert pair["test"]["accuracy"] > 0.65


def workers_of_a_cluster(commands: list[list[str]], temporary: Path) -> list[tuple[int, str]]:
    """Runs each command as one worker of a cluster on 127.0.0.1; returns each one's exit status and output."""
    configs = local_cluster.tf_configs(local_cluster.free_ports(len(commands)))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "toolkit_cli", *command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            cwd=ROOT, env={**os.environ, "TMPDIR": str(temporary), "TF_CONFIG": tf_config},
        )
        for command, tf_config in zip(commands, configs)
    ]
    return [(process.wait(timeout=300), process.stdout.read()) for process in processes]


def test_workers_started_differently_or_without_the_chief_stop_with_a_message(tmp_path):
    command = [
        "run", "sentiment", "--config", str(SMOKE), "--output-dir", str(tmp_path), "--run-name", "r",
        "--set", "trainer.distribution=multi_worker", "data.max_examples=200",
    ]
    outputs = workers_of_a_cluster([command, [*command, "trainer.learning_rate=0.5"]], tmp_path)
    for status, output in outputs:
        assert status == 2 and "Traceback" not in output, output[-3000:]
        assert "worker(s) 1 were started with another config or other data than worker 0" in output

    with run_directory.claim(tmp_path / "sentiment" / "r"):  # another process writes run r: the chief refuses
        (chief_status, chief_output), (status, output) = workers_of_a_cluster([command, command], tmp_path)
    assert chief_status == 2 and "another toolkit process" in chief_output
    assert status == 2 and "worker(s) 0 of the cluster could not start the run (their output says why)" in output


def test_a_mistake_is_reported_once_before_any_worker_starts(tmp_path, capsys):
    for args, message in [
        (["--set", "trainer.epochs=0", "--local-workers", "2"], "trainer.epochs"),
        (["--local-workers", "1"], "--local-workers: expected at least 2 workers, got 1"),
    ]:
        assert toolkit_cli.main(["run", "sentiment", "--output-dir", str(tmp_path), *args]) == 2
        output = capsys.readouterr()
        assert message in output.err
        assert "started worker" not in output.out + output.err and "Traceback" not in output.err


def test_mirrored_strategy_trains_a_pipeline_on_two_logical_cpus(run_python, tmp_path):
    # Logical devices must be set before TensorFlow starts, so this runs in a process of its own.
    result = run_python(
        f"""
        import json
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        import toolkit
        from toolkit.distribution import distribution_strategy
        replicas = distribution_strategy("mirrored").num_replicas_in_sync
        result = toolkit.run(
            "sentiment", {str(SMOKE)!r}, ["trainer.distribution=mirrored", "trainer.epochs=1", "data.max_examples=400"],
            run_name="mirrored", output_dir={str(tmp_path)!r},
        )
        print(json.dumps({{"replicas": replicas, "distribution": result.metrics["distribution"]}}))
        """,
        allow_toolkit=True,
    )
    assert result["replicas"] == 2
    assert result["distribution"] == {"strategy": "MirroredStrategy", "workers": 1, "replicas_in_sync": 2}
    assert (tmp_path / "sentiment" / "mirrored" / "serving" / "saved_model.pb").is_file()
