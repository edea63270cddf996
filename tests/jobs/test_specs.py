"""Every job a spec names exists: an enqueuer that goes by name (the calls service, the
scheduler, the API) never queues a job the worker cannot import."""

from __future__ import annotations

import importlib
import inspect

from contracts.jobs import JOB_SPECS
from contracts.keys import ALL_QUEUES
from jobs.schedule import DEFAULT_TABLE


def test_every_spec_names_an_importable_function_on_a_known_queue() -> None:
    for name, spec in JOB_SPECS.items():
        module, _, function = name.rpartition(".")
        target = getattr(importlib.import_module(module), function)
        assert callable(target), name
        assert spec.queue in ALL_QUEUES, name


def test_periodic_entries_are_specs_whose_jobs_take_no_arguments() -> None:
    for entry in DEFAULT_TABLE:
        assert JOB_SPECS[entry.spec.name] is entry.spec
        module, _, function = entry.spec.name.rpartition(".")
        signature = inspect.signature(getattr(importlib.import_module(module), function))
        required = [p for p in signature.parameters.values()
                    if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD]
        assert not required, f"{entry.name}: {entry.spec.name} needs {required}"
